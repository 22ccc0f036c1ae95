import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FailureLimiter, Tarpit } from '../../src/lib/rate-limit.js';

/** Resolves to whether `promise` settled before the microtask queue drained. */
async function settledNow(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

describe('FailureLimiter', () => {
  test('allows `limit` failures per window, then tells how long to wait, then forgets after the window', () => {
    const limiter = new FailureLimiter(3, 60_000);
    const t0 = 1_000_000;
    for (let i = 0; i < 3; i++) {
      assert.equal(limiter.retryAfter('k', t0), 0);
      limiter.recordFailure('k', t0);
    }
    assert.equal(limiter.retryAfter('k', t0 + 10_000), 50);
    assert.equal(limiter.retryAfter('other', t0), 0);
    assert.equal(limiter.retryAfter('k', t0 + 60_000), 0);
  });

  test('stays bounded: the oldest window is evicted', () => {
    const limiter = new FailureLimiter(1, 60_000, 2);
    limiter.recordFailure('a', 0);
    limiter.recordFailure('b', 0);
    limiter.recordFailure('c', 0);
    assert.equal(limiter.retryAfter('a', 1), 0);
    assert.ok(limiter.retryAfter('b', 1) > 0);
    assert.ok(limiter.retryAfter('c', 1) > 0);
  });
});

describe('Tarpit', () => {
  test('holds an answer for the delay', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const tarpit = new Tarpit(500);
    const held = tarpit.hold();
    assert.equal(await settledNow(held), false);
    assert.equal(tarpit.held, 1);
    t.mock.timers.tick(499);
    assert.equal(await settledNow(held), false);
    t.mock.timers.tick(1);
    assert.equal(await settledNow(held), true);
    assert.equal(tarpit.held, 0);
  });

  test('beyond maxHeld waiting answers, and with a zero delay, answers go out at once', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const full = new Tarpit(500, 2);
    const waiting = [full.hold(), full.hold()];
    assert.equal(await settledNow(full.hold()), true);
    assert.equal(full.held, 2);
    t.mock.timers.tick(500);
    await Promise.all(waiting);
    assert.equal(await settledNow(new Tarpit(0).hold()), true);
  });
});
