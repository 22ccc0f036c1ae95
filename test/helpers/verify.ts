import { type TestApp, uniqueName } from './app.js';
import { createAsRoot, createCluster, createOrg } from './principals.js';

/** The API-key verification suites' shared setup; `app` returns the suite's running app. */
export function verifyFixtures(app: () => TestApp) {
  async function resourceKey() {
    const orgId = await createOrg(app());
    const { resourceId } = await createCluster(app(), orgId);
    const owner = await createAsRoot(app(), `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName() });
    const key = await createAsRoot(app(), `/v1/orgs/${orgId}/api-keys`, { owner: owner.id, scope: { type: 'resource', resource_id: resourceId } });
    return { orgId, resourceId, ownerId: owner.id as string, id: key.id as string, secret: key.secret as string };
  }

  return { resourceKey };
}
