import type { TestApp } from './app.js';
import { createCluster, createOrg } from './principals.js';

/** The access-key suites' shared setup; `app` returns the suite's running app. */
export function accessKeyFixtures(app: () => TestApp) {
  async function fluvioCluster() {
    const orgId = await createOrg(app());
    const { environmentId, resourceId } = await createCluster(app(), orgId, 'fluvio_cluster');
    return { orgId, environmentId, clusterId: resourceId, base: `/v1/orgs/${orgId}/resources/${resourceId}/access-keys` };
  }

  const create = (base: string, payload: object, headers: Record<string, string> = app().root) => app().inject({ method: 'POST', url: base, headers, payload });
  const verify = (payload: object, headers: Record<string, string> = app().root, remoteAddress?: string) =>
    app().inject({ method: 'POST', url: '/v1/verify/access-key', headers, payload, ...(remoteAddress ? { remoteAddress } : {}) });

  return { fluvioCluster, create, verify };
}
