import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { b64json, clusterKeyVerifyFixtures, hs256, verifyCode } from '../../helpers/cluster-keys.js';
import { createOrg, credentialFor } from '../../helpers/principals.js';

describe('cluster key verification: security', () => {
  const t = suiteApp();
  const { keyAndForge } = clusterKeyVerifyFixtures(() => t);

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

  test("another organization's token, or a caller without Verifier, gets 200 INVALID, never 403", async () => {
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

  test('a cluster key never authenticates to the management API', async () => {
    const { orgId, key } = await keyAndForge();
    for (const url of [`/v1/orgs/${orgId}`, `/v1/orgs/${orgId}/cluster-keys`]) {
      const res = await t.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key.token}` } });
      assert.equal(res.statusCode, 401, url);
    }
  });
});
