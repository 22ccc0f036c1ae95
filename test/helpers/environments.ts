import assert from 'node:assert/strict';
import { type TestApp, uniqueName } from './app.js';
import { createOrg } from './principals.js';

/** The environment suites' shared setup; `app` returns the suite's running app. */
export function environmentFixtures(app: () => TestApp) {
  const newOrg = () => createOrg(app());
  const createEnv = (orgId: string, body: unknown) =>
    app().inject({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: app().root, payload: body as object });
  const createEnvAs = (orgId: string, headers: Record<string, string>) =>
    app().inject({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers, payload: { display_name: uniqueName('env') } });
  const newEnv = async (orgId: string, displayName = uniqueName('env')): Promise<string> => {
    const res = await createEnv(orgId, { display_name: displayName });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  const auditActions = async (orgId: string, target: string) =>
    (await app().store.prisma.auditEvent.findMany({ where: { orgId, target }, orderBy: { id: 'asc' } })).map((e) => e.action);

  return { newOrg, createEnv, createEnvAs, newEnv, auditActions };
}
