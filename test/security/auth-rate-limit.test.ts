import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSecret, SecretPrefix } from '../../src/crypto/tokens.js';
import { suiteApp } from '../helpers/app.js';
import { basic, createOrg, credentialFor } from '../helpers/principals.js';

describe('failed authentication is rate limited per client address', () => {
  const t = suiteApp(() => ({ env: { LATCHKEY_AUTH_FAILURES_PER_MINUTE: '3' } }));

  const attempt = (authorization: string, remoteAddress: string) => t.inject({ method: 'GET', url: '/v1/orgs', headers: { authorization }, remoteAddress });

  test('after the limit an address gets 429 with Retry-After for wrong credentials, but the right root token still gets through', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await attempt('Bearer wrong-token-wrong-token-wrong-token', '10.9.0.1')).statusCode);
    assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
    const limited = await attempt('Bearer another-wrong-token-another-wrong-token', '10.9.0.1');
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().code, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal((await attempt(t.root.authorization, '10.9.0.1')).statusCode, 200, 'the configured root token is never locked out');
    assert.equal((await attempt(t.root.authorization, '10.9.0.2')).statusCode, 200);
  });

  test('a valid cloud API key and its access token still authenticate from an address that is over the limit', async () => {
    const orgId = await createOrg(t);
    const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const token = await t.inject({
      method: 'POST',
      url: '/oauth2/token',
      remoteAddress: '10.9.0.4',
      headers: { authorization: admin.authorization },
      payload: { grant_type: 'client_credentials' },
    });
    assert.equal(token.statusCode, 200, token.body);
    assert.equal((await attempt(admin.authorization, '10.9.0.4')).statusCode, 200);
    for (let i = 0; i < 4; i++) await attempt(basic(admin.keyId, generateSecret(SecretPrefix.apiKey)).authorization, '10.9.0.4');
    assert.equal((await attempt(basic(admin.keyId, generateSecret(SecretPrefix.apiKey)).authorization, '10.9.0.4')).statusCode, 429);
    assert.equal((await attempt(admin.authorization, '10.9.0.4')).statusCode, 200, 'Basic with the right secret');
    assert.equal((await attempt(`Bearer ${token.json().access_token}`, '10.9.0.4')).statusCode, 200, 'access token');
    const again = await t.inject({
      method: 'POST',
      url: '/oauth2/token',
      remoteAddress: '10.9.0.4',
      headers: { authorization: admin.authorization },
      payload: { grant_type: 'client_credentials' },
    });
    assert.equal(again.statusCode, 200, 'the token endpoint too');
  });

  test('failed OAuth client authentication counts too', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await t.inject({
        method: 'POST',
        url: '/oauth2/token',
        remoteAddress: '10.9.0.3',
        payload: { grant_type: 'client_credentials', client_id: 'ABCDEFGHIJKLMNOP', client_secret: 'nope' },
      });
      assert.equal(res.statusCode, 401);
    }
    const res = await t.inject({
      method: 'POST',
      url: '/oauth2/token',
      remoteAddress: '10.9.0.3',
      payload: { grant_type: 'client_credentials', client_id: 'ABCDEFGHIJKLMNOP', client_secret: 'nope' },
    });
    assert.equal(res.statusCode, 429);
  });
});
