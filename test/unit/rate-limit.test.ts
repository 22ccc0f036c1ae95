import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CredentialFailureLimits, FailureLimiter, Tarpit } from '../../src/lib/rate-limit.js';

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

describe('CredentialFailureLimits', () => {
  test('failures count per credential, caller and address: one caller cannot throttle another on the same credential', () => {
    const limits = new CredentialFailureLimits(new FailureLimiter(2), new FailureLimiter(100));
    const attacker = { id: 'sa-attacker', address: '10.0.0.1' };
    for (let i = 0; i < 2; i++) limits.recordFailure('KEYID', attacker);
    assert.ok(limits.retryAfter('KEYID', attacker) > 0);
    assert.equal(limits.retryAfter('KEYID', { id: 'sa-owner', address: '10.0.0.2' }), 0);
    assert.equal(limits.retryAfter('KEYID', { id: 'sa-owner', address: '10.0.0.1' }), 0, 'same address, other caller: under the per-address limit');
    assert.equal(limits.retryAfter('OTHERKEY', attacker), 0);
  });

  test('the per-address limit covers every credential and caller from that address', () => {
    const limits = new CredentialFailureLimits(new FailureLimiter(100), new FailureLimiter(3));
    for (let i = 0; i < 3; i++) limits.recordFailure(`KEY${i}`, { id: `sa-${i}`, address: '10.0.0.9' });
    assert.ok(limits.retryAfter('KEYX', { id: 'sa-x', address: '10.0.0.9' }) > 0);
    assert.equal(limits.retryAfter('KEYX', { id: 'sa-x', address: '10.0.0.8' }), 0);
  });
});
