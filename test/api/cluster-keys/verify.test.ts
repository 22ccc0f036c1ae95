import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { createOrg, credentialFor } from '../../helpers/principals.js';
import { b64json, createClusterKey, decodeJwt, hs256, privateSigningKey, pulsarSetup, signToken, verifyCode } from '../../helpers/cluster-keys.js';

describe('cluster key verification', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  async function keyAndForge() {
    const orgId = await createOrg(t);
    const setup = await pulsarSetup(t, orgId);
    const key = await createClusterKey(t, orgId, { owner: setup.ownerId, cluster_id: setup.clusterId });
    const { header, payload } = decodeJwt(key.token);
    const privateKey = await privateSigningKey(t, header.kid as string);
    /** The key's own token with some claims changed, correctly signed with the organization's key. */
    const forge = (claims: Record<string, unknown>, headerChanges: Record<string, unknown> = {}) =>
      signToken({ ...header, ...headerChanges }, { ...payload, ...claims }, privateKey);
    return { ...setup, key, header, payload, forge };
  }

  test('VALID answers the key, its owner and organization', async () => {
    const { orgId, clusterId, ownerId, key } = await keyAndForge();
    const res = await t.inject({ method: 'POST', url: '/v1/verify/cluster-key', headers: t.root, payload: { token: key.token, cluster_id: clusterId } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      valid: true,
      code: 'VALID',
      key: { id: key.id, name: key.name, cluster_id: clusterId, expires_at: key.expires_at },
      principal: { id: ownerId, type: 'service_account' },
      org_id: orgId,
    });
    // A second answer comes from the cache and says the same.
    assert.equal(await verifyCode(t, key.token, clusterId), 'VALID');
    const signature = key.token.split('.')[2];
    assert.ok(!t.logs.some((line) => line.includes(signature)), 'the token is never logged');
  });

  test('tampered payload, tampered signature, alg none, HS256 with the public key and an unknown kid are INVALID', async () => {
    const { orgId, clusterId, key, header, payload } = await keyAndForge();
    const [h, p, s] = key.token.split('.') as [string, string, string];
    const pem = (await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/cluster-keys/public-key.pem` })).body;
    const jwk = (await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/.well-known/jwks.json` })).json().keys[0];
    const flipped = Buffer.from(s, 'base64url');
    flipped[10]! ^= 1;
    const cases: Record<string, string> = {
      'tampered payload': `${h}.${b64json({ ...payload, sub: 'sa-admin' })}.${s}`,
      'tampered signature': `${h}.${p}.${flipped.toString('base64url')}`,
      'alg none': `${b64json({ alg: 'none', kid: header.kid, typ: 'JWT' })}.${p}.`,
      'alg none with signature': `${b64json({ alg: 'none', kid: header.kid, typ: 'JWT' })}.${p}.${s}`,
      'HS256 with the PEM as secret': hs256({ alg: 'HS256', kid: header.kid, typ: 'JWT' }, payload, pem),
      'HS256 with the JWK modulus as secret': hs256({ alg: 'HS256', kid: header.kid, typ: 'JWT' }, payload, Buffer.from(jwk.n, 'base64url')),
      'unknown kid': `${b64json({ ...header, kid: randomBytes(12).toString('base64url') })}.${p}.${s}`,
      'no kid': `${b64json({ alg: header.alg, typ: 'JWT' })}.${p}.${s}`,
      'wrong typ': `${b64json({ ...header, typ: 'at+jwt' })}.${p}.${s}`,
      'ES256 claimed for an RSA key': `${b64json({ ...header, alg: 'ES256' })}.${p}.${s}`,
    };
    for (const [name, token] of Object.entries(cases)) {
      assert.equal(await verifyCode(t, token, clusterId), 'INVALID', name);
    }
    assert.equal(await verifyCode(t, key.token, clusterId), 'VALID', 'the genuine token still verifies');
  });

  test('a correctly signed token with a foreign issuer, a made-up jti or a non-string audience is INVALID', async () => {
    const { clusterId, forge } = await keyAndForge();
    assert.equal(await verifyCode(t, forge({ iss: 'https://evil.example/v1/orgs/x' }), clusterId), 'INVALID');
    assert.equal(await verifyCode(t, forge({ jti: 'ck-doesnotexist' }), clusterId), 'INVALID');
    assert.equal(await verifyCode(t, forge({ aud: [clusterId] }), clusterId), 'INVALID');
    assert.equal(await verifyCode(t, forge({ exp: 'never' }), clusterId), 'INVALID');
  });

  test('EXPIRED as soon as now >= exp; nbf is forgiven up to 60 s, not more', async () => {
    const { clusterId, forge } = await keyAndForge();
    const now = Math.floor(Date.now() / 1000);
    assert.equal(await verifyCode(t, forge({ exp: now }), clusterId), 'EXPIRED');
    assert.equal(await verifyCode(t, forge({ exp: now - 30 }), clusterId), 'EXPIRED', 'no clock tolerance on exp');
    assert.equal(await verifyCode(t, forge({ exp: now + 3600 }), clusterId), 'VALID');
    assert.equal(await verifyCode(t, forge({ nbf: now + 30 }), clusterId), 'VALID', 'small skew on nbf is forgiven');
    assert.equal(await verifyCode(t, forge({ nbf: now + 600 }), clusterId), 'INVALID', 'not yet valid');
  });

  test('a token for another cluster is WRONG_RESOURCE; revoked is REVOKED at once, even when cached', async () => {
    const { orgId, clusterId, key } = await keyAndForge();
    const other = await pulsarSetup(t, orgId);
    assert.equal(await verifyCode(t, key.token, other.clusterId), 'WRONG_RESOURCE');
    assert.equal(await verifyCode(t, key.token, clusterId), 'VALID');
    const revoke = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/cluster-keys/${key.id}/revoke`, headers: t.root });
    assert.equal(revoke.statusCode, 200);
    assert.equal(await verifyCode(t, key.token, clusterId), 'REVOKED');
  });

  test('another organization\'s token, or a caller without Verifier, gets 200 INVALID, never 403', async () => {
    const { orgId, clusterId, key } = await keyAndForge();
    const otherOrg = await createOrg(t);
    const foreignVerifier = await credentialFor(t, otherOrg, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    const ownVerifier = await credentialFor(t, orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const nobody = await credentialFor(t, orgId, []);
    assert.equal(await verifyCode(t, key.token, clusterId, { authorization: ownVerifier.authorization }), 'VALID');
    assert.equal(await verifyCode(t, key.token, clusterId, { authorization: foreignVerifier.authorization }), 'INVALID');
    assert.equal(await verifyCode(t, key.token, clusterId, { authorization: admin.authorization }), 'INVALID');
    assert.equal(await verifyCode(t, key.token, clusterId, { authorization: nobody.authorization }), 'INVALID');
    const anonymous = await t.inject({ method: 'POST', url: '/v1/verify/cluster-key', payload: { token: key.token, cluster_id: clusterId } });
    assert.equal(anonymous.statusCode, 401);
  });

  test('garbage of any size is 200 INVALID or a 4xx, never a 5xx', async () => {
    const { clusterId } = await keyAndForge();
    const garbage = [
      'x',
      'a.b.c',
      '...',
      'eyJhbGciOiJSUzI1NiJ9.e30.',
      `${b64json({ alg: 'RS256', kid: 'A'.repeat(16), typ: 'JWT' })}.${'%%%'}.${'!!!'}`,
      `${b64json({ alg: 'RS256', kid: { nested: true }, typ: 'JWT' })}.e30.AA`,
      `${b64json([1, 2])}.${b64json('x')}.AA`,
      Buffer.from(randomBytes(4000)).toString('base64url'),
      `${randomBytes(3000).toString('base64url')}.${randomBytes(3000).toString('base64url')}.${randomBytes(3000).toString('base64url')}`,
      '\u0000.\u0000.\u0000',
      '🔑.🔑.🔑',
    ];
    for (const token of garbage) {
      const res = await t.inject({ method: 'POST', url: '/v1/verify/cluster-key', headers: t.root, payload: { token, cluster_id: clusterId } });
      assert.ok(res.statusCode < 500, `${res.statusCode} for ${token.slice(0, 40)}`);
      if (res.statusCode === 200) assert.equal(res.json().code, 'INVALID', token.slice(0, 40));
    }
    const huge = await t.inject({ method: 'POST', url: '/v1/verify/cluster-key', headers: t.root, payload: { token: 'a.'.repeat(100_000), cluster_id: clusterId } });
    assert.equal(huge.statusCode, 422);
    assert.equal(huge.json().errors[0].path, 'token');
    const missing = await t.inject({ method: 'POST', url: '/v1/verify/cluster-key', headers: t.root, payload: { token: 'a.b.c' } });
    assert.equal(missing.statusCode, 422);
    assert.equal(missing.json().errors[0].path, 'cluster_id');
  });

  test('a cluster key never authenticates to the management API', async () => {
    const { orgId, key } = await keyAndForge();
    for (const url of [`/v1/orgs/${orgId}`, `/v1/orgs/${orgId}/cluster-keys`]) {
      const res = await t.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key.token}` } });
      assert.equal(res.statusCode, 401, url);
    }
  });
});
