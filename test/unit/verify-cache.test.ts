import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CheckSteps, VerifyCache } from '../../src/lib/verify-cache.js';

interface Entry {
  id: string;
  value: string;
}

/** A load that stays open until `finish` is called, recording how often it ran. */
function gatedSteps(answer: (remember: (value: Entry, until?: number) => void) => string) {
  const calls = { loads: 0 };
  let finish: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (finish = resolve));
  const steps: CheckSteps<Entry, string> = {
    hit: (entry) => `hit:${entry.value}`,
    throttled: () => 'throttled',
    load: async (remember) => {
      calls.loads++;
      await gate;
      return answer(remember);
    },
  };
  return { steps, calls, finish: () => finish() };
}

const matching = (entry: Entry) => (remember: (value: Entry) => void) => {
  remember(entry);
  return 'loaded';
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('VerifyCache', () => {
  test('concurrent checks of one key share one load; the match is then served from the cache', async () => {
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000, idOf: (e) => e.id });
    const { steps, calls, finish } = gatedSteps(matching({ id: 'k1', value: 'a' }));
    const checks = Array.from({ length: 5 }, () => cache.check('d1', 'k1', false, steps));
    finish();
    assert.deepEqual(await Promise.all(checks), Array(5).fill('loaded'));
    assert.equal(calls.loads, 1);
    assert.equal(await cache.check('d1', 'k1', false, steps), 'hit:a');
    assert.deepEqual(cache.stats, { hits: 1, misses: 5 });
  });

  test('answers without a load (a hit, a precheck refusal, a throttled caller) are given synchronously, not as promises', async () => {
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000, idOf: (e) => e.id });
    const { steps, finish } = gatedSteps(matching({ id: 'k1', value: 'a' }));
    const miss = cache.check('d1', 'k1', false, steps);
    assert.ok(miss instanceof Promise, 'a miss loads: a promise');
    finish();
    assert.equal(await miss, 'loaded');
    assert.equal(cache.check('d1', 'k1', false, steps), 'hit:a');
    assert.equal(cache.check('d2', 'k2', true, steps), 'throttled');
    assert.equal(cache.check('d3', 'k3', false, { ...steps, precheck: () => 'malformed' }), 'malformed');
  });

  test('keyOf: the same parts give the same key, different parts or another cache (its own pepper) a different one, and no part shows in it', () => {
    const a = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000 });
    const b = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000 });
    const secret = 'lk_secret_value_1234567890';
    assert.equal(a.keyOf('KEY1', secret), a.keyOf('KEY1', secret));
    assert.notEqual(a.keyOf('KEY1', secret), a.keyOf('KEY2', secret));
    assert.notEqual(a.keyOf('KEY1', secret), a.keyOf('KEY1', `${secret}x`));
    assert.notEqual(a.keyOf('ab', 'c'), a.keyOf('a', 'bc'), 'parts are separated');
    assert.notEqual(a.keyOf('KEY1', secret), b.keyOf('KEY1', secret));
    assert.equal(a.keyOf('KEY1', secret).length, 32, 'the 32 bytes of a SHA-256 digest');
    assert.ok(!a.keyOf('KEY1', secret).includes('secret'));
  });

  test('an answer that is not a match reaches everyone who joined, and nothing is stored', async () => {
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000, idOf: (e) => e.id });
    const { steps, calls, finish } = gatedSteps(() => 'invalid');
    const checks = [cache.check('d1', 'k1', false, steps), cache.check('d1', 'k1', false, steps)];
    finish();
    assert.deepEqual(await Promise.all(checks), ['invalid', 'invalid']);
    assert.equal(calls.loads, 1);
    assert.equal(cache.size, 0);
  });

  test('invalidating a credential drops all its entries, and a load that started before is answered but not stored', async () => {
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000, idOf: (e) => e.id });
    cache.set('d1', { id: 'k1', value: 'a' }, cache.epoch);
    cache.set('d2', { id: 'k1', value: 'b' }, cache.epoch);
    cache.set('d3', { id: 'k2', value: 'c' }, cache.epoch);
    const { steps, calls, finish } = gatedSteps(matching({ id: 'k1', value: 'old' }));
    const before = cache.check('d4', 'k1', false, steps);
    cache.invalidate(['k1']);
    assert.equal(cache.get('d1'), undefined);
    assert.equal(cache.get('d2'), undefined);
    assert.equal(cache.get('d3')?.value, 'c', 'other credentials keep their entries');
    const after = cache.check('d4', 'k1', false, steps);
    finish();
    assert.equal(await before, 'loaded');
    assert.equal(await after, 'loaded');
    assert.equal(calls.loads, 2, 'a request after the invalidation did not join the older load');
    assert.equal(cache.get('d4')?.value, 'old', 'the newer load was stored');
  });

  test('a load whose credential is known only once loaded is ended for newcomers by any invalidation', async () => {
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000, idOf: (e) => e.id });
    const { steps, calls, finish } = gatedSteps(matching({ id: 'k1', value: 'a' }));
    const before = cache.check('d1', undefined, false, steps);
    cache.invalidate(['some-other-key']);
    const after = cache.check('d1', undefined, false, steps);
    finish();
    await Promise.all([before, after]);
    assert.equal(calls.loads, 2);
  });

  test('set with an epoch older than the last invalidation stores nothing', () => {
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000 });
    const epoch = cache.epoch;
    cache.invalidate(['k1']);
    cache.set('k1', { id: 'k1', value: 'a' }, epoch);
    assert.equal(cache.size, 0);
  });

  test('without idOf entries are keyed by their credential id', () => {
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000 });
    cache.set('k1', { id: 'k1', value: 'a' }, cache.epoch);
    cache.set('k2', { id: 'k2', value: 'b' }, cache.epoch);
    cache.invalidate(['k1']);
    assert.equal(cache.get('k1'), undefined);
    assert.equal(cache.get('k2')?.value, 'b');
  });

  test('entries answer until their TTL, or the sooner `until`', async () => {
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000 });
    cache.set('k1', { id: 'k1', value: 'a' }, cache.epoch);
    cache.set('k2', { id: 'k2', value: 'b' }, cache.epoch, Date.now() + 5);
    await sleep(20);
    assert.equal(cache.get('k1')?.value, 'a');
    assert.equal(cache.get('k2'), undefined);
  });

  test('aged-out entries mark known-good keys: a throttled caller may reload those, and nothing else', async () => {
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 1, idOf: (e) => e.id, keepAgedOut: true });
    const first = gatedSteps(matching({ id: 'k1', value: 'a' }));
    first.finish();
    assert.equal(await cache.check('d1', 'k1', false, first.steps), 'loaded');
    await sleep(10);
    const again = gatedSteps(matching({ id: 'k1', value: 'a' }));
    again.finish();
    assert.equal(await cache.check('d1', 'k1', true, again.steps), 'loaded', 'the mark let the throttled caller reload');
    assert.equal(await cache.check('d9', 'k1', true, again.steps), 'throttled', 'an unknown key costs nothing');
    assert.equal(again.calls.loads, 1);
  });

  test('a reload that no longer matches removes the mark', async () => {
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 1, idOf: (e) => e.id, keepAgedOut: true });
    cache.set('d1', { id: 'k1', value: 'a' }, cache.epoch);
    await sleep(10);
    const wrong = gatedSteps(() => 'invalid');
    wrong.finish();
    assert.equal(await cache.check('d1', 'k1', true, wrong.steps), 'invalid');
    assert.equal(await cache.check('d1', 'k1', true, wrong.steps), 'throttled');
    assert.equal(cache.size, 0);
  });

  test('without keepAgedOut an aged-out entry is dropped and gives a throttled caller nothing', async () => {
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 1, idOf: (e) => e.id });
    cache.set('d1', { id: 'k1', value: 'a' }, cache.epoch);
    await sleep(10);
    const steps = gatedSteps(matching({ id: 'k1', value: 'a' }));
    assert.equal(await cache.check('d1', 'k1', true, steps.steps), 'throttled');
    assert.equal(cache.size, 0);
  });

  test('a TTL of 0 never answers from the cache but keeps the marks', async () => {
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 0, idOf: (e) => e.id, keepAgedOut: true });
    cache.set('d1', { id: 'k1', value: 'a' }, cache.epoch);
    assert.equal(cache.get('d1'), undefined);
    const steps = gatedSteps(matching({ id: 'k1', value: 'a' }));
    steps.finish();
    assert.equal(await cache.check('d1', 'k1', true, steps.steps), 'loaded');
  });

  test('precheck refuses before any load, counts no miss, and is skipped on hits', async () => {
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000, idOf: (e) => e.id });
    const { steps, calls, finish } = gatedSteps(matching({ id: 'k1', value: 'a' }));
    finish();
    assert.equal(await cache.check('d1', 'k1', false, { ...steps, precheck: () => 'malformed' }), 'malformed');
    assert.equal(await cache.check('d1', 'k1', true, { ...steps, precheck: () => 'malformed' }), 'throttled', 'a throttled caller is told so');
    assert.equal(calls.loads, 0);
    assert.equal(cache.stats.misses, 0);
    assert.equal(await cache.check('d1', 'k1', false, steps), 'loaded');
    assert.equal(await cache.check('d1', 'k1', false, { ...steps, precheck: () => 'malformed' }), 'hit:a', 'a hit needs no precheck');
  });

  test('while unusable nothing is served or stored, but concurrent loads are still shared', async () => {
    let usable = false;
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000, idOf: (e) => e.id, usable: () => usable });
    const { steps, calls, finish } = gatedSteps(matching({ id: 'k1', value: 'a' }));
    const checks = [cache.check('d1', 'k1', false, steps), cache.check('d1', 'k1', false, steps)];
    finish();
    await Promise.all(checks);
    assert.equal(calls.loads, 1);
    assert.equal(cache.size, 0);
    cache.set('d1', { id: 'k1', value: 'a' }, cache.epoch);
    assert.equal(cache.size, 0);
    usable = true;
    cache.set('d1', { id: 'k1', value: 'a' }, cache.epoch);
    usable = false;
    assert.equal(cache.get('d1'), undefined, 'a stored entry is not served while unusable');
  });

  test('bounded: the least recently used entry leaves first, and leaves the invalidation index', () => {
    const cache = new VerifyCache<Entry>({ max: 2, ttlMs: 60_000, idOf: (e) => e.id });
    cache.set('d1', { id: 'k1', value: 'a' }, cache.epoch);
    cache.set('d2', { id: 'k2', value: 'b' }, cache.epoch);
    cache.get('d1');
    cache.set('d3', { id: 'k3', value: 'c' }, cache.epoch);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('d2'), undefined);
    assert.equal(cache.get('d1')?.value, 'a');
    cache.set('d2', { id: 'k2', value: 'b2' }, cache.epoch);
    cache.invalidate(['k1']);
    assert.equal(cache.get('d2')?.value, 'b2');
  });

  test('max 0 keeps nothing; clear forgets everything and ends loads for newcomers', async () => {
    const none = new VerifyCache<Entry>({ max: 0, ttlMs: 60_000 });
    none.set('k1', { id: 'k1', value: 'a' }, none.epoch);
    assert.equal(none.size, 0);

    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000, idOf: (e) => e.id });
    cache.set('d1', { id: 'k1', value: 'a' }, cache.epoch);
    const { steps, calls, finish } = gatedSteps(matching({ id: 'k2', value: 'b' }));
    const before = cache.check('d2', 'k2', false, steps);
    cache.clear();
    assert.equal(cache.size, 0);
    const after = cache.check('d2', 'k2', false, steps);
    finish();
    await Promise.all([before, after]);
    assert.equal(calls.loads, 2);
  });

  test('generation: moves with every invalidation and clear, reads -1 while the cache is unusable', () => {
    let usable = true;
    const cache = new VerifyCache<Entry>({ max: 10, ttlMs: 60_000, idOf: (entry) => entry.id, usable: () => usable });
    const start = cache.generation;
    assert.ok(start >= 0);
    cache.set('k', { id: 'a', value: 'x' }, cache.epoch);
    assert.equal(cache.generation, start, 'storing does not move it');
    cache.invalidate(['unrelated']);
    const afterInvalidate = cache.generation;
    assert.notEqual(afterInvalidate, start);
    cache.clear();
    assert.notEqual(cache.generation, afterInvalidate);
    usable = false;
    assert.equal(cache.generation, -1);
  });
});
