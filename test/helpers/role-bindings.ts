import assert from 'node:assert/strict';
import { type TestApp, uniqueName } from './app.js';

/** The role-binding suites' shared setup; `app` returns the suite's running app. */
export function roleBindingFixtures(app: () => TestApp) {
  const newSa = async (orgId: string): Promise<string> => {
    const res = await app().inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/service-accounts`,
      headers: app().root,
      payload: { display_name: uniqueName('sa') },
    });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  const newUser = async (orgId: string): Promise<string> => {
    const res = await app().inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/users`,
      headers: app().root,
      payload: { email: `${uniqueName('u')}@example.com` },
    });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  const bind = (orgId: string, body: unknown, headers: Record<string, string> = app().root) =>
    app().inject({ method: 'POST', url: `/v1/orgs/${orgId}/role-bindings`, headers, payload: body as object });

  return { newSa, newUser, bind };
}
