import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startTestApp, suiteApp, TEST_DATABASE_URL } from '../../helpers/app.js';
import { tokenFixtures } from '../../helpers/oauth.js';
import { basic, createOrg, credentialFor } from '../../helpers/principals.js';

describe('POST /oauth2/token', () => {
  const t = suiteApp();
  const { token } = tokenFixtures(() => t);

  test('client credentials in a form body give a 15-minute bearer token that acts as the key owner', async () => {
    const orgId = await createOrg(t);
    const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const res = await token(`grant_type=client_credentials&client_id=${admin.keyId}&client_secret=${admin.secret}`);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().token_type, 'Bearer');
    assert.equal(res.json().expires_in, 900);
    assert.equal(res.headers['cache-control'], 'no-store');
    const bearer = { authorization: `Bearer ${res.json().access_token}` };
    const org = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers: bearer });
    assert.equal(org.statusCode, 200);
    const audit = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: bearer, payload: { display_name: 'via-token' } });
    assert.equal(audit.statusCode, 201);
  });

  test('JSON body and HTTP Basic client authentication work too', async () => {
    const orgId = await createOrg(t);
    const cred = await credentialFor(t, orgId, []);
    assert.equal((await token({ grant_type: 'client_credentials', client_id: cred.keyId, client_secret: cred.secret })).statusCode, 200);
    assert.equal((await token('grant_type=client_credentials', basic(cred.keyId, cred.secret))).statusCode, 200);
  });

  test('deleting the cloud key ends its access tokens', async () => {
    const orgId = await createOrg(t);
    const cred = await credentialFor(t, orgId, []);
    const access = (await token({ grant_type: 'client_credentials', client_id: cred.keyId, client_secret: cred.secret })).json().access_token;
    const bearer = { authorization: `Bearer ${access}` };
    assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers: bearer })).statusCode, 200);
    assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/api-keys/${cred.keyId}`, headers: t.root })).statusCode, 204);
    assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers: bearer })).statusCode, 401);
    assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers: { authorization: cred.authorization } })).statusCode, 401);
  });

  test('rotating the cloud key without grace ends its access tokens at once; with grace they live while the old secret does', async () => {
    const orgId = await createOrg(t);
    const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const rotate = (grace: number) =>
      t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${admin.keyId}/rotate`, headers: t.root, payload: { grace_period_seconds: grace } });
    const mint = async (secret: string) => {
      const res = await token({ grant_type: 'client_credentials', client_id: admin.keyId, client_secret: secret });
      assert.equal(res.statusCode, 200, res.body);
      return { authorization: `Bearer ${res.json().access_token}` };
    };
    const use = (headers: Record<string, string>) => t.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers });

    const before = await mint(admin.secret);
    assert.equal((await use(before)).statusCode, 200);
    const graced = await rotate(3600);
    assert.equal(graced.statusCode, 200);
    assert.equal((await use(before)).statusCode, 200, 'the old secret still verifies, and so do its tokens');
    const fromNew = await mint(graced.json().secret);
    const fromOld = await mint(admin.secret);
    const ended = await rotate(0);
    assert.equal(ended.statusCode, 200);
    for (const headers of [before, fromNew, fromOld]) assert.equal((await use(headers)).statusCode, 401);
    const current = await mint(ended.json().secret);
    assert.equal((await use(current)).statusCode, 200);
  });

  test('a rotation on one replica ends the tokens another replica has cached within a second', async () => {
    // On Postgres a second store, so the rotation travels by NOTIFY; embedded, replicas share the one store.
    const other = TEST_DATABASE_URL ? await startTestApp() : await startTestApp({ store: t.store });
    try {
      const orgId = await createOrg(t);
      const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const res = await token({ grant_type: 'client_credentials', client_id: admin.keyId, client_secret: admin.secret });
      const headers = { authorization: `Bearer ${res.json().access_token}` };
      assert.equal((await other.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers })).statusCode, 200, 'cached on the other replica');
      const rotated = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${admin.keyId}/rotate`, headers: t.root, payload: {} });
      assert.equal(rotated.statusCode, 200);
      const deadline = Date.now() + 1000;
      let status = 200;
      while (Date.now() < deadline && status !== 401) {
        status = (await other.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers })).statusCode;
        if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal(status, 401, 'the other replica refuses the token within 1 s');
    } finally {
      await other.close();
    }
  });
});
