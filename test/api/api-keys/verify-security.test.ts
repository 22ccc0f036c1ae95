import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSecret, SecretPrefix } from '../../../src/crypto/tokens.js';
import { startTestApp, suiteApp, uniqueName } from '../../helpers/app.js';
import { createAsRoot, createCluster, createOrg, credentialFor } from '../../helpers/principals.js';
import { verifyFixtures } from '../../helpers/verify.js';

describe('POST /v1/verify/api-key: security', () => {
  const t = suiteApp(() => ({ env: { LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: '5', LATCHKEY_VERIFY_FAILURES_PER_ADDRESS_PER_MINUTE: '1000' } }));
  const { resourceKey } = verifyFixtures(() => t);

  const verify = (payload: object, headers: Record<string, string> = t.root, remoteAddress?: string) =>
    t.inject({ method: 'POST', url: '/v1/verify/api-key', headers, payload, ...(remoteAddress ? { remoteAddress } : {}) });

  test('WRONG_RESOURCE only once the secret matched', async () => {
    const key = await resourceKey();
    assert.equal((await verify({ key: key.id, secret: key.secret, resource_id: 'lkc-elsewhere' })).json().code, 'WRONG_RESOURCE');
  });

  test("a Verifier sees its own organization's keys; another organization's key is INVALID, even revoked", async () => {
    const mine = await resourceKey();
    const theirs = await resourceKey();
    const verifier = await credentialFor(t, mine.orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    const headers = { authorization: verifier.authorization };
    assert.equal((await verify({ key: mine.id, secret: mine.secret, resource_id: mine.resourceId }, headers)).json().code, 'VALID');
    assert.equal((await verify({ key: theirs.id, secret: theirs.secret, resource_id: theirs.resourceId }, headers)).json().code, 'INVALID');
    await t.inject({ method: 'DELETE', url: `/v1/orgs/${theirs.orgId}/api-keys/${theirs.id}`, headers: t.root });
    assert.equal((await verify({ key: theirs.id, secret: theirs.secret, resource_id: theirs.resourceId }, headers)).json().code, 'INVALID');
  });

  test('a principal without the Verifier role is 403; no credential is 401', async () => {
    const key = await resourceKey();
    const admin = await credentialFor(t, key.orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const res = await verify({ key: key.id, secret: key.secret, resource_id: key.resourceId }, { authorization: admin.authorization });
    assert.equal(res.statusCode, 403);
    const none = await verify({ key: key.id, secret: key.secret, resource_id: key.resourceId }, {});
    assert.equal(none.statusCode, 401);
  });

  test('repeated wrong secrets for a key are rate limited with 429 and Retry-After, while the right secret, once cached, still verifies', async () => {
    const key = await resourceKey();
    assert.equal((await verify({ key: key.id, secret: key.secret, resource_id: key.resourceId })).json().code, 'VALID');
    // Well-formed, so it reaches the database and argon2; malformed secrets cost nothing and are not counted.
    const wrong = generateSecret(SecretPrefix.apiKey);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await verify({ key: key.id, secret: wrong, resource_id: key.resourceId }, t.root, '10.2.0.1')).statusCode);
    assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
    assert.deepEqual(statuses.slice(5), [429, 429]);
    const asked = Date.now();
    const limited = await verify({ key: key.id, secret: wrong, resource_id: key.resourceId }, t.root, '10.2.0.1');
    assert.equal(limited.json().code, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    // Held back by the tarpit (LATCHKEY_RATE_LIMITED_DELAY_MS, default 500) before it was sent.
    assert.ok(Date.now() - asked >= 490, `answered after ${Date.now() - asked} ms`);
    assert.equal((await verify({ key: key.id, secret: key.secret, resource_id: key.resourceId })).json().code, 'VALID');
  });

  test('another organization failing on a key id does not lock the key out for its owner (failures count per key and caller)', async () => {
    const key = await resourceKey();
    const ownVerifier = await credentialFor(t, key.orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    const strangerOrg = await createOrg(t);
    const stranger = await credentialFor(t, strangerOrg, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    const wrong = generateSecret(SecretPrefix.apiKey);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      statuses.push(
        (await verify({ key: key.id, secret: wrong, resource_id: key.resourceId }, { authorization: stranger.authorization }, '10.2.1.1')).statusCode,
      );
    }
    assert.deepEqual(statuses.slice(5), [429, 429, 429], 'the stranger is throttled');
    // The owner's verifier never verified this key before: an uncached right secret, same key id.
    const own = await verify({ key: key.id, secret: key.secret, resource_id: key.resourceId }, { authorization: ownVerifier.authorization }, '10.2.1.2');
    assert.equal(own.statusCode, 200, own.body);
    assert.equal(own.json().code, 'VALID');
  });

  test('a caller over its failure limit still gets through with a right secret it verified before, even after the cache entry aged out', async () => {
    const short = await startTestApp({ env: { LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: '3', LATCHKEY_VERIFY_CACHE_TTL_SECONDS: '1' } });
    try {
      const orgId = await createOrg(short);
      const { resourceId } = await createCluster(short, orgId);
      const owner = await createAsRoot(short, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName() });
      const key = await createAsRoot(short, `/v1/orgs/${orgId}/api-keys`, { owner: owner.id, scope: { type: 'resource', resource_id: resourceId } });
      const ask = (secret: string) =>
        short.inject({
          method: 'POST',
          url: '/v1/verify/api-key',
          headers: short.root,
          remoteAddress: '10.2.2.1',
          payload: { key: key.id, secret, resource_id: resourceId },
        });
      assert.equal((await ask(key.secret)).json().code, 'VALID');
      const wrong = generateSecret(SecretPrefix.apiKey);
      for (let i = 0; i < 3; i++) assert.equal((await ask(wrong)).statusCode, 200);
      assert.equal((await ask(wrong)).statusCode, 429, 'wrong secrets stay throttled');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const right = await ask(key.secret);
      assert.equal(right.statusCode, 200, right.body);
      assert.equal(right.json().code, 'VALID');
      assert.equal((await ask(wrong)).statusCode, 429);
    } finally {
      await short.close();
    }
  });
});
