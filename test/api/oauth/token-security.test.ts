import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { tokenFixtures } from '../../helpers/oauth.js';
import { createOrg, credentialFor } from '../../helpers/principals.js';
import { wrongSecret } from '../../helpers/secrets.js';

describe('POST /oauth2/token: security', () => {
  const t = suiteApp();
  const { token } = tokenFixtures(() => t);

  test('a wrong secret is 401 invalid_client; a bad grant is 400 per RFC 6749', async () => {
    const orgId = await createOrg(t);
    const cred = await credentialFor(t, orgId, []);
    const wrong = await token({ grant_type: 'client_credentials', client_id: cred.keyId, client_secret: wrongSecret(cred.secret) });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error, 'invalid_client');
    assert.ok(wrong.headers['www-authenticate']);
    const grant = await token({ grant_type: 'password', client_id: cred.keyId, client_secret: cred.secret });
    assert.equal(grant.statusCode, 400);
    assert.equal(grant.json().error, 'unsupported_grant_type');
    const missing = await token({ client_id: cred.keyId });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error, 'invalid_request');
  });

  test('a tampered token is 401', async () => {
    const orgId = await createOrg(t);
    const cred = await credentialFor(t, orgId, []);
    const access: string = (await token({ grant_type: 'client_credentials', client_id: cred.keyId, client_secret: cred.secret })).json().access_token;
    const [header, payload, signature] = access.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = [header, Buffer.from(JSON.stringify({ ...claims, org_id: 'org-other' })).toString('base64url'), signature].join('.');
    assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers: { authorization: `Bearer ${forged}` } })).statusCode, 401);
  });

  test('a resource key is not a client', async () => {
    const orgId = await createOrg(t);
    const cred = await credentialFor(t, orgId, []);
    const env = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: t.root, payload: { display_name: 'e' } });
    const res = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/resources`,
      headers: t.root,
      payload: { kind: 'kafka_cluster', display_name: 'k', environment_id: env.json().id },
    });
    const key = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/api-keys`,
      headers: t.root,
      payload: { owner: cred.principalId, scope: { type: 'resource', resource_id: res.json().id } },
    });
    const answer = await token({ grant_type: 'client_credentials', client_id: key.json().id, client_secret: key.json().secret });
    assert.equal(answer.statusCode, 401);
    assert.equal(answer.json().error, 'invalid_client');
  });
});
