import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SecretHasher } from '../../src/crypto/hashing.js';
import { OverloadedError } from '../../src/errors.js';

const params = { memoryCost: 8192, timeCost: 1, parallelism: 1 };

describe('SecretHasher', () => {
  test('hashes with argon2id and verifies only the right secret', async () => {
    const hasher = new SecretHasher({ ...params, concurrency: 2, queueLimit: 10 });
    const hash = await hasher.hash('correct horse');
    assert.match(hash, /^\$argon2id\$v=19\$m=8192,p=1,t=1\$/);
    assert.deepEqual(await hasher.verify(hash, 'correct horse'), { ok: true, needsRehash: false });
    assert.equal((await hasher.verify(hash, 'wrong horse')).ok, false);
    assert.equal((await hasher.verify('not a hash', 'x')).ok, false);
  });

  test('reports hashes made with other parameters as needing a rehash', async () => {
    const old = await new SecretHasher({ ...params, memoryCost: 4096, concurrency: 1, queueLimit: 1 }).hash('s');
    const check = await new SecretHasher({ ...params, concurrency: 1, queueLimit: 1 }).verify(old, 's');
    assert.deepEqual(check, { ok: true, needsRehash: true });
  });

  test('refuses work beyond concurrency plus queue with OverloadedError instead of queueing without bound', async () => {
    const hasher = new SecretHasher({ ...params, concurrency: 1, queueLimit: 2 });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((i) => hasher.hash(`secret-${i}`)));
    const refused = results.filter((r) => r.status === 'rejected');
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
    assert.equal(refused.length, 2);
    for (const r of refused) assert.ok((r as PromiseRejectedResult).reason instanceof OverloadedError);
    // Once the burst is over, the hasher serves again.
    assert.match(await hasher.hash('after'), /^\$argon2id/);
  });
});
