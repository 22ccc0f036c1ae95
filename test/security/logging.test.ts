import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { suiteApp } from '../helpers/app.js';

describe('logging never carries credentials', () => {
  const t = suiteApp();

  /** Log lines written while `work` ran. */
  async function logsDuring(work: () => Promise<unknown>): Promise<string[]> {
    const start = t.logs.length;
    await work();
    return t.logs.slice(start);
  }

  test('a request with the root token is logged, the token is not', async () => {
    const requestId = `log-test-${randomUUID()}`;
    const lines = await logsDuring(async () => {
      const res = await t.inject({ method: 'GET', url: '/v1/orgs', headers: { ...t.root, 'x-request-id': requestId } });
      assert.equal(res.statusCode, 200);
    });
    assert.ok(
      lines.some((line) => line.includes(requestId)),
      'the request itself was logged',
    );
    assert.ok(!lines.some((line) => line.includes(t.rootToken)), 'no line carries the token');
    assert.ok(!lines.some((line) => /authorization/i.test(line) && line.includes('Bearer')), 'no line carries the Authorization header');
  });

  test('a wrong token, a token in the query string and one in a rejected body are not logged either', async () => {
    const wrong = `${t.rootToken}-but-wrong`;
    const lines = await logsDuring(async () => {
      assert.equal((await t.inject({ method: 'GET', url: '/v1/orgs', headers: { authorization: `Bearer ${wrong}` } })).statusCode, 401);
      await t.inject({ method: 'GET', url: `/v1/orgs?token=${encodeURIComponent(t.rootToken)}`, headers: t.root });
      const rejected = await t.inject({ method: 'POST', url: '/v1/orgs', headers: t.root, payload: { name: 'log-test', token: t.rootToken } });
      assert.equal(rejected.statusCode, 422);
    });
    assert.ok(lines.length >= 3, 'the requests were logged');
    for (const line of lines) {
      assert.ok(!line.includes(t.rootToken), `no line carries the token: ${line}`);
      assert.ok(!line.includes(wrong), `no line carries the wrong token: ${line}`);
    }
  });

  test('secret-bearing fields in logged objects are redacted', async () => {
    const secret = `lks_${randomUUID()}`;
    const lines = await logsDuring(async () => {
      t.app.log.info({ secret, token: secret, client_secret: secret, access_token: secret }, 'top-level fields');
      t.app.log.info(
        { key: { secret }, body: { token: secret, password: secret, rootToken: secret }, headers: { authorization: `Bearer ${secret}` } },
        'nested fields',
      );
    });
    assert.equal(lines.length, 2);
    for (const line of lines) {
      assert.ok(!line.includes(secret), `redacted: ${line}`);
      assert.match(line, /\[redacted\]/);
    }
  });
});
