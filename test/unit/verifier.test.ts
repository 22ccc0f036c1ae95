import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { SecretHasher } from '../../src/crypto/hashing.js';
import { generateSecret, newApiKeyId, SecretPrefix, secretHint } from '../../src/crypto/tokens.js';
import { ApiKeyVerifier } from '../../src/modules/api-keys/verifier.js';
import { openStore, type Store } from '../../src/store/index.js';
import { TEST_DATABASE_URL, uniqueName } from '../helpers/app.js';
import { wrongSecret } from '../helpers/secrets.js';

/** A real hasher that counts its argon2 verifications. */
class CountingHasher extends SecretHasher {
  verifications = 0;
  override verify(hash: string, secret: string) {
    this.verifications++;
    return super.verify(hash, secret);
  }
}

/** A real hasher whose verifications wait while the gate is closed, to hold a load in flight. */
class GatedHasher extends SecretHasher {
  #open: Promise<void> = Promise.resolve();
  #release: () => void = () => undefined;
  waiting = 0;
  close() {
    this.#open = new Promise((resolve) => (this.#release = resolve));
  }
  open() {
    this.#release();
  }
  override async verify(hash: string, secret: string) {
    this.waiting++;
    await this.#open;
    this.waiting--;
    return super.verify(hash, secret);
  }
}

describe('ApiKeyVerifier', () => {
  let store: Store;
  before(async () => {
    store = await openStore({ databaseUrl: TEST_DATABASE_URL, logger: pino({ level: 'silent' }) });
  });
  after(() => store.close());

  async function insertKey(hasher: SecretHasher) {
    const orgId = `org-${uniqueName('v')
      .replace(/[^a-z0-9]/g, '')
      .slice(0, 20)}`;
    await store.prisma.organization.create({ data: { id: orgId, name: orgId, displayName: orgId } });
    const principal = await store.prisma.principal.create({ data: { id: `sa-${orgId.slice(4)}`, orgId, kind: 'service_account', displayName: 'sa' } });
    const secret = generateSecret(SecretPrefix.apiKey);
    const id = newApiKeyId();
    await store.prisma.apiKey.create({
      data: { id, orgId, ownerId: principal.id, type: 'cloud', secretHash: await hasher.hash(secret), secretHint: secretHint(secret) },
    });
    return { id, secret };
  }

  const options = { memoryCost: 8192, timeCost: 1, parallelism: 1, concurrency: 4, queueLimit: 100 };

  test('concurrent misses of one credential share a single argon2 run; later hits run none', async () => {
    const hasher = new CountingHasher(options);
    const key = await insertKey(hasher);
    const verifier = new ApiKeyVerifier(store.prisma, hasher, { cacheSize: 100, cacheTtlMs: 60_000 });
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.check(key.id, key.secret)));
    assert.ok(results.every((r) => r.outcome === 'matched'));
    assert.equal(hasher.verifications, 1);
    await verifier.check(key.id, key.secret);
    assert.equal(hasher.verifications, 1);
  });

  test('a wrong secret is not cached as a match, and invalidation forces a fresh check', async () => {
    const hasher = new CountingHasher(options);
    const key = await insertKey(hasher);
    const verifier = new ApiKeyVerifier(store.prisma, hasher, { cacheSize: 100, cacheTtlMs: 60_000 });
    assert.equal((await verifier.check(key.id, wrongSecret(key.secret))).outcome, 'invalid');
    assert.equal((await verifier.check(key.id, key.secret)).outcome, 'matched');
    verifier.invalidate([key.id]);
    await store.prisma.apiKey.update({ where: { id: key.id }, data: { status: 'revoked' } });
    assert.equal((await verifier.check(key.id, key.secret)).outcome, 'revoked');
  });

  test('a throttled caller gets cached matches but causes no new argon2 work', async () => {
    const hasher = new CountingHasher(options);
    const key = await insertKey(hasher);
    const verifier = new ApiKeyVerifier(store.prisma, hasher, { cacheSize: 100, cacheTtlMs: 60_000 });
    assert.equal((await verifier.check(key.id, 'lks_wrong', true)).outcome, 'throttled');
    assert.equal(hasher.verifications, 0);
    await verifier.check(key.id, key.secret);
    assert.equal((await verifier.check(key.id, key.secret, true)).outcome, 'matched');
    assert.equal(hasher.verifications, 1);
  });

  test('a request arriving after a revocation does not join a verification that was in flight before it', async () => {
    const hasher = new GatedHasher(options);
    const key = await insertKey(hasher);
    const verifier = new ApiKeyVerifier(store.prisma, hasher, { cacheSize: 100, cacheTtlMs: 60_000 });
    hasher.close();
    const before = verifier.check(key.id, key.secret);
    while (hasher.waiting === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // The revoke commits, then its invalidation arrives: from here on, nothing may answer VALID.
    await store.prisma.apiKey.update({ where: { id: key.id }, data: { status: 'revoked' } });
    verifier.invalidate([key.id]);
    const after = verifier.check(key.id, key.secret);
    hasher.open();
    assert.equal((await after).outcome, 'revoked');
    await before;
    assert.equal((await verifier.check(key.id, key.secret)).outcome, 'revoked', 'the older flight was not cached');
  });

  test('a throttled caller may re-check a secret that matched before its cache entry aged out, but not a new one', async () => {
    const hasher = new CountingHasher(options);
    const key = await insertKey(hasher);
    const verifier = new ApiKeyVerifier(store.prisma, hasher, { cacheSize: 100, cacheTtlMs: 1 });
    assert.equal((await verifier.check(key.id, key.secret)).outcome, 'matched');
    await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal((await verifier.check(key.id, key.secret, true)).outcome, 'matched');
    assert.equal(hasher.verifications, 2);
    assert.equal((await verifier.check(key.id, wrongSecret(key.secret), true)).outcome, 'throttled');
    verifier.invalidate([key.id]);
    assert.equal((await verifier.check(key.id, key.secret, true)).outcome, 'throttled', 'an invalidation forgets what matched');
    assert.equal(hasher.verifications, 2);
  });

  test('an unknown key id costs no argon2 work (the timing difference is accepted, see README security notes)', async () => {
    const hasher = new CountingHasher(options);
    const verifier = new ApiKeyVerifier(store.prisma, hasher, { cacheSize: 100, cacheTtlMs: 60_000 });
    for (let i = 0; i < 5; i++) assert.equal((await verifier.check(newApiKeyId(), generateSecret(SecretPrefix.apiKey))).outcome, 'invalid');
    assert.equal(hasher.verifications, 0);
  });

  test('the cache is bounded: the oldest entry leaves first', async () => {
    const hasher = new CountingHasher(options);
    const keys = [await insertKey(hasher), await insertKey(hasher), await insertKey(hasher)];
    const verifier = new ApiKeyVerifier(store.prisma, hasher, { cacheSize: 2, cacheTtlMs: 60_000 });
    for (const key of keys) await verifier.check(key.id, key.secret);
    assert.equal(verifier.size, 2);
    hasher.verifications = 0;
    await verifier.check(keys[2]!.id, keys[2]!.secret);
    assert.equal(hasher.verifications, 0, 'newest is cached');
    await verifier.check(keys[0]!.id, keys[0]!.secret);
    assert.equal(hasher.verifications, 1, 'oldest was evicted');
  });
});
