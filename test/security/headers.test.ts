import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../helpers/app.js';

describe('response headers', () => {
  const t = suiteApp();

  test('every response carries the API security headers and is not cacheable', async () => {
    for (const url of ['/healthz', '/v1/orgs', '/no-such-route']) {
      const res = await t.inject({ method: 'GET', url });
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(res.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'", url);
      assert.equal(res.headers['x-frame-options'], 'DENY', url);
      assert.equal(res.headers['referrer-policy'], 'no-referrer', url);
      assert.equal(res.headers['cache-control'], 'no-store', url);
    }
  });

  test('X-Request-Id echoes a sane caller id and replaces anything else with a fresh one', async () => {
    const echoed = await t.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'ci-run-42.step:7' } });
    assert.equal(echoed.headers['x-request-id'], 'ci-run-42.step:7');
    const replaced = await t.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id <script>' } });
    assert.match(String(replaced.headers['x-request-id']), /^req_[A-Za-z0-9_-]+$/);
    const other = await t.inject({ method: 'GET', url: '/healthz' });
    assert.notEqual(other.headers['x-request-id'], replaced.headers['x-request-id']);
    const problem = await t.inject({ method: 'GET', url: '/v1/orgs', headers: { 'x-request-id': 'trace-1' } });
    assert.equal(problem.json().request_id, 'trace-1');
  });
});
