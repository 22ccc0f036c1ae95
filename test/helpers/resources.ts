import assert from 'node:assert/strict';
import { type TestApp, uniqueName } from './app.js';
import { createOrg } from './principals.js';

/** The resource suites' shared setup; `app` returns the suite's running app. */
export function resourceFixtures(app: () => TestApp) {
  const newOrg = () => createOrg(app());
  const newEnv = async (orgId: string): Promise<string> => {
    const res = await app().inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/environments`,
      headers: app().root,
      payload: { display_name: uniqueName('env') },
    });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  const createResource = (orgId: string, body: unknown) =>
    app().inject({ method: 'POST', url: `/v1/orgs/${orgId}/resources`, headers: app().root, payload: body as object });
  const newResource = async (orgId: string, envId: string, kind = 'kafka_cluster'): Promise<string> => {
    const res = await createResource(orgId, { kind, display_name: uniqueName(kind), environment_id: envId });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };

  return { newOrg, newEnv, createResource, newResource };
}
