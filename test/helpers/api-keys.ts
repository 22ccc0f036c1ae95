import { type TestApp, uniqueName } from './app.js';
import { createAsRoot, createCluster, createOrg } from './principals.js';

/** The API-key suites' setup; `app` returns the suite's running app. */
export function apiKeyFixtures(app: () => TestApp) {
  async function setup() {
    const orgId = await createOrg(app());
    const { environmentId, resourceId } = await createCluster(app(), orgId);
    const owner = await createAsRoot(app(), `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName('owner') });
    return { orgId, environmentId, resourceId, ownerId: owner.id as string };
  }

  const createKey = (orgId: string, payload: object, headers: Record<string, string> = app().root) =>
    app().inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys`, headers, payload });

  const verify = (key: string, secret: string, resource_id: string, headers: Record<string, string> = app().root) =>
    app().inject({ method: 'POST', url: '/v1/verify/api-key', headers, payload: { key, secret, resource_id } });

  return { setup, createKey, verify };
}
