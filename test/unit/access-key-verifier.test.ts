import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SecretHasher } from '../../src/crypto/hashing.js';
import { accessKeyLookupId, generateAccessKey } from '../../src/crypto/tokens.js';
import { AccessKeyVerifier } from '../../src/modules/access-keys/verifier.js';
import { suiteApp } from '../helpers/app.js';
import { createCluster, createOrg } from '../helpers/principals.js';

/** A real hasher that counts its argon2 verifications. */
class CountingHasher extends SecretHasher {
  verifications = 0;
  override verify(hash: string, secret: string) {
    this.verifications++;
    return super.verify(hash, secret);
  }
}

describe('AccessKeyVerifier', () => {
  const t = suiteApp();

  const options = { memoryCost: 8192, timeCost: 1, parallelism: 1, concurrency: 4, queueLimit: 100 };

  async function accessKey(): Promise<{ key: string; id: string }> {
    const orgId = await createOrg(t);
    const { resourceId } = await createCluster(t, orgId, 'fluvio_cluster');
    const res = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/resources/${resourceId}/access-keys`,
      headers: t.root,
      payload: { name: 'k', topic: 'a' },
    });
    assert.equal(res.statusCode, 201, res.body);
    const key = res.json().key as string;
    return { key, id: accessKeyLookupId(key)! };
  }

  test('throttled: unknown keys cost no argon2 work; cached, known-good and in-flight keys are still answered', async () => {
    const { key, id } = await accessKey();
    const hasher = new CountingHasher(options);
    const verifier = new AccessKeyVerifier(t.store.prisma, hasher, { cacheSize: 100, cacheTtlMs: 60_000 });
    const wrong = generateAccessKey(id);
    for (let i = 0; i < 5; i++) assert.equal((await verifier.check(id, wrong, true)).outcome, 'throttled');
    assert.equal((await verifier.check(id, key, true)).outcome, 'throttled', 'a key never matched here is unknown');
    assert.equal(hasher.verifications, 0);

    // In flight: a throttled caller joins a load someone else started.
    const [first, joined] = await Promise.all([verifier.check(id, key), verifier.check(id, key, true)]);
    assert.equal(first.outcome, 'matched');
    assert.equal(joined.outcome, 'matched');
    assert.equal(hasher.verifications, 1);
    assert.equal((await verifier.check(id, key, true)).outcome, 'matched', 'cached');
    assert.equal(hasher.verifications, 1);
    verifier.invalidate([id]);
    assert.equal((await verifier.check(id, key, true)).outcome, 'throttled', 'an invalidation forgets what matched');
    assert.equal(hasher.verifications, 1);
  });

  test('an aged-out entry lets a throttled caller re-check the key that matched, and nothing else', async () => {
    const { key, id } = await accessKey();
    const hasher = new CountingHasher(options);
    const verifier = new AccessKeyVerifier(t.store.prisma, hasher, { cacheSize: 100, cacheTtlMs: 0 });
    assert.equal((await verifier.check(id, key)).outcome, 'matched');
    assert.equal((await verifier.check(id, key, true)).outcome, 'matched', 're-checked from the known-good mark');
    assert.equal(hasher.verifications, 2);
    assert.equal((await verifier.check(id, generateAccessKey(id), true)).outcome, 'throttled');
    assert.equal(hasher.verifications, 2);
  });

  test('while the cache is unusable nothing is served from it or added to it', async () => {
    const { key, id } = await accessKey();
    const hasher = new CountingHasher(options);
    let usable = false;
    const verifier = new AccessKeyVerifier(t.store.prisma, hasher, { cacheSize: 100, cacheTtlMs: 60_000, cacheUsable: () => usable });
    assert.equal((await verifier.check(id, key)).outcome, 'matched');
    assert.equal(verifier.size, 0);
    assert.equal((await verifier.check(id, key)).outcome, 'matched');
    assert.equal(hasher.verifications, 2);
    usable = true;
    await verifier.check(id, key);
    await verifier.check(id, key);
    assert.equal(hasher.verifications, 3);
    assert.deepEqual(verifier.stats, { hits: 1, misses: 3 });
  });
});
