import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { ensureRootToken } from '../../src/auth/root-token.js';
import { hashingOptionsFrom, SecretHasher } from '../../src/crypto/hashing.js';
import { startTestApp, type TestApp, uniqueName } from '../helpers/app.js';
import { createOrg } from '../helpers/principals.js';
import { countRows } from './fixtures.js';

const PROBLEM_JSON = /^application\/problem\+json/;

/** A 4xx problem+json whose `errors` name `field` (when the answer is a 422). */
function assertProblem(res: LightMyRequestResponse, status: number, field?: string) {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), PROBLEM_JSON);
  const problem = res.json();
  assert.equal(problem.status, status);
  if (field !== undefined) {
    assert.ok(
      problem.errors?.some((e: { path: string }) => e.path === field || e.path.startsWith(`${field}.`)),
      `the problem names ${field}: ${res.body}`,
    );
  }
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('bad input is a 4xx problem naming the field, and changes nothing', () => {
  let t: TestApp;
  let orgId: string;
  before(async () => {
    t = await startTestApp();
    orgId = await createOrg(t);
  });
  after(() => t.close());

  /** Runs a request that must be refused, and proves no table gained or lost a row. */
  async function refused(request: Parameters<TestApp['inject']>[0], status: number, field?: string) {
    const before = await countRows(t.store);
    const res = await t.inject(request);
    assertProblem(res, status, field);
    assert.deepEqual(await countRows(t.store), before, 'no row was written');
    return res;
  }

  test('NUL in a JSON string, a path parameter, a query filter and a page token', async () => {
    await refused({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: t.root, payload: { display_name: 'a\u0000b' } }, 422, 'display_name');
    await refused({ method: 'POST', url: '/v1/orgs', headers: t.root, payload: { name: uniqueName('o'), display_name: 'x', settings: {}, 'k\u0000': 1 } }, 422);
    await refused({ method: 'GET', url: `/v1/orgs/${orgId}%00`, headers: t.root }, 422, 'org_id');
    await refused({ method: 'GET', url: `/v1/orgs/${orgId}/audit-events?action=a%00b`, headers: t.root }, 422, 'action');
    await refused({ method: 'GET', url: '/v1/orgs?page_token=a%00b', headers: t.root }, 422, 'page_token');
    await refused({ method: 'GET', url: `/v1/orgs?page_token=${b64(['2026-01-01T00:00:00.000Z', 'org-a\u0000'])}`, headers: t.root }, 422, 'page_token');
  });

  test('crafted page tokens: bad base64, wrong types, extreme dates, ids beyond the column', async () => {
    const tokens = [
      '!!!not-base64!!!',
      b64('[1,2]'),
      b64('"just a string"'),
      b64({ createdAt: '2026-01-01T00:00:00Z', id: 'org-a' }),
      b64(['+275760-09-13T00:00:00.000Z', 'org-a']),
      b64(['-271821-04-20T00:00:00.000Z', 'org-a']),
      b64(['0000-01-01T00:00:00.000Z', 'org-a']),
      b64(['2026-01-01T00:00:00.000Z', 'x'.repeat(400)]),
    ];
    for (const token of tokens) {
      await refused({ method: 'GET', url: `/v1/orgs?page_token=${encodeURIComponent(token)}`, headers: t.root }, 422, 'page_token');
      await refused({ method: 'GET', url: `/v1/orgs/${orgId}/environments?page_token=${encodeURIComponent(token)}`, headers: t.root }, 422, 'page_token');
    }
    for (const cursor of ['9999999999999999999', '9223372036854775808', '-1', '1e3']) {
      await refused({ method: 'GET', url: `/v1/orgs/${orgId}/audit-events?page_token=${b64(cursor)}`, headers: t.root }, 422, 'page_token');
    }
    // The largest cursor a bigint holds is a token this service could have issued: an empty page.
    const res = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/audit-events?page_token=${b64('9223372036854775807')}`, headers: t.root });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().data, []);
  });

  test('timestamps outside 1970..9999 are refused: since=0000-01-01T00:00:00Z', async () => {
    for (const since of ['0000-01-01T00:00:00Z', '1969-12-31T23:59:59Z', '0001-01-01T00:00:00+01:00']) {
      await refused({ method: 'GET', url: `/v1/orgs/${orgId}/audit-events?since=${encodeURIComponent(since)}`, headers: t.root }, 422, 'since');
    }
    const ok = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/audit-events?since=1970-01-01T00:00:00Z`, headers: t.root });
    assert.equal(ok.statusCode, 200, ok.body);
  });

  test('unknown organization settings keys are refused by name', async () => {
    await refused(
      { method: 'PATCH', url: `/v1/orgs/${orgId}`, headers: t.root, payload: { settings: { no_such_setting: 1 } } },
      422,
      'settings.no_such_setting',
    );
    await refused(
      { method: 'POST', url: '/v1/orgs', headers: t.root, payload: { name: uniqueName('o'), settings: { no_such_setting: true } } },
      422,
      'settings.no_such_setting',
    );
  });

  test('invalid UTF-8 bodies and lone surrogates are refused, not stored as U+FFFD', async () => {
    const invalidUtf8 = Buffer.concat([Buffer.from('{"display_name":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const res = await refused(
      { method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: { ...t.root, 'content-type': 'application/json' }, payload: invalidUtf8 },
      422,
      'display_name',
    );
    assert.match(res.json().detail, /UTF-8/);
    // Bytes that are not UTF-8 and not JSON: nothing to name, still a problem and not a 500.
    const garbage = await refused(
      {
        method: 'POST',
        url: `/v1/orgs/${orgId}/environments`,
        headers: { ...t.root, 'content-type': 'application/json' },
        payload: Buffer.from([0x7b, 0xff, 0x7d]),
      },
      400,
    );
    assert.equal(garbage.json().code, 'malformed_json');
    await refused(
      {
        method: 'POST',
        url: `/v1/orgs/${orgId}/environments`,
        headers: { ...t.root, 'content-type': 'application/json' },
        payload: '{"display_name":"a\\ud800b"}',
      },
      422,
      'display_name',
    );
    await refused(
      {
        method: 'POST',
        url: `/v1/orgs/${orgId}/environments`,
        headers: { ...t.root, 'content-type': 'application/json' },
        payload: '{"display_name":"\\udc00"}',
      },
      422,
      'display_name',
    );
    // A well-formed pair is fine and comes back as sent.
    const pair = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: t.root, payload: { display_name: 'env \ud83d\udd11' } });
    assert.equal(pair.statusCode, 201, pair.body);
    assert.equal(pair.json().display_name, 'env \ud83d\udd11');
  });

  test('deep nesting is refused without exhausting the stack', async () => {
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    await refused(
      {
        method: 'POST',
        url: `/v1/orgs/${orgId}/environments`,
        headers: { ...t.root, 'content-type': 'application/json' },
        payload: `{"display_name":${deep}}`,
      },
      422,
      'display_name',
    );
  });

  test('nesting is refused from 33 levels whether or not the text has escapes, and escapes alone are fine', async () => {
    // The JSON parser skips the walk of bodies whose text proves them clean (no \u escape, at most
    // 32 brackets); one bracket more must still reach the walk and its depth limit.
    const nested = (arrays: number, inner = '1') => `{"display_name":${'['.repeat(arrays)}${inner}${']'.repeat(arrays)}}`;
    const send = (payload: string) =>
      t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: { ...t.root, 'content-type': 'application/json' }, payload });
    for (const inner of ['1', '"\\u0041"']) {
      const atLimit = await send(nested(31, inner));
      assertProblem(atLimit, 422, 'display_name');
      assert.doesNotMatch(atLimit.body, /nested deeper/, 'the schema, not the depth limit, refuses 32 levels');
      const beyond = await send(nested(32, inner));
      assertProblem(beyond, 422, 'display_name');
      assert.match(beyond.body, /nested deeper than 32 levels/);
    }
    const escaped = await send('{"display_name":"env \\u00e9"}');
    assert.equal(escaped.statusCode, 201, escaped.body);
    assert.equal(escaped.json().display_name, 'env \u00e9');
  });

  test('a root token containing dots is a root token, and dotted garbage is 401, not 500', async () => {
    const dotted = 'root.token.with-dots-0123456789abcdef0123456789';
    const hasher = new SecretHasher(hashingOptionsFrom(t.config, { concurrency: 1, queueLimit: 1 }));
    const other = await startTestApp({ store: t.store });
    try {
      await ensureRootToken(t.store.prisma, hasher, dotted);
      const res = await other.inject({ method: 'GET', url: '/v1/orgs', headers: { authorization: `Bearer ${dotted}` } });
      assert.equal(res.statusCode, 200, res.body);
      for (const garbage of ['a.b.c', 'eyJ.eyJ.sig', 'eyJhbGciOiJub25lIn0.e30.', '...', 'a.b', 'eyJ\u0000.a.b']) {
        assertProblem(await other.inject({ method: 'GET', url: '/v1/orgs', headers: { authorization: `Bearer ${garbage}` } }), 401);
      }
    } finally {
      // Every test app (and other test files on a shared database) uses the usual token.
      await ensureRootToken(t.store.prisma, hasher, t.rootToken);
      await other.close();
    }
  });
});

describe('protocol edges answer problem+json through the one error handler', () => {
  let t: TestApp;
  let orgId: string;
  before(async () => {
    t = await startTestApp();
    orgId = await createOrg(t);
  });
  after(() => t.close());

  test('Fastify 400 (bad JSON), 404, 413 and 414 are problem+json', async () => {
    const json = { ...t.root, 'content-type': 'application/json' };
    assertProblem(await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: json, payload: '{"display_name":' }), 400);
    assertProblem(await t.inject({ method: 'GET', url: '/no/such/route', headers: t.root }), 404);
    assertProblem(await t.inject({ method: 'GET', url: '/no/such/route' }), 404);
    assertProblem(
      await t.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/environments`,
        headers: json,
        payload: JSON.stringify({ display_name: 'x'.repeat(1024 * 1024) }),
      }),
      413,
    );
    assertProblem(await t.inject({ method: 'GET', url: `/v1/orgs/${'o'.repeat(200)}`, headers: t.root }), 414);
    assertProblem(await t.inject({ method: 'GET', url: `/v1/orgs?page_token=${'x'.repeat(9000)}`, headers: t.root }), 414);
    assertProblem(await t.inject({ method: 'GET', url: '/v1/orgs/%E0%A4%A', headers: t.root }), 400);
  });

  test('text/plain and form bodies on JSON routes are 415', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      const before = await countRows(t.store);
      const res = await t.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/environments`,
        headers: { ...t.root, 'content-type': type },
        payload: type.includes('form-urlencoded') ? 'display_name=x' : '{"display_name":"x"}',
      });
      assertProblem(res, 415);
      assert.deepEqual(await countRows(t.store), before);
    }
  });

  test('/oauth2/token still takes form bodies (RFC 6749)', async () => {
    const res = await t.inject({
      method: 'POST',
      url: '/oauth2/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=password',
    });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().error, 'unsupported_grant_type');
  });

  test("Node's 431 for oversized headers is problem+json, on a real socket", async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as { port: number };
    const res = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', headers: { 'x-big': 'x'.repeat(64 * 1024) } }, (response) => {
        let body = '';
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, type: String(response.headers['content-type']), body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 431);
    assert.match(res.type, PROBLEM_JSON);
    assert.equal(JSON.parse(res.body).code, 'headers_too_large');
  });
});

describe('HTTP parse errors never log credentials, at any level', () => {
  test('LOG_LEVEL=trace: a malformed request with an Authorization header leaves no credential in the logs', async () => {
    const t = await startTestApp({ env: { LOG_LEVEL: 'trace' } });
    try {
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = t.app.server.address() as { port: number };
      const secret = `Bearer ${t.rootToken}`;
      const basic = Buffer.from('LKEYID0123456789:very-secret-value-0123456789').toString('base64');
      const raw = async (payload: string) =>
        new Promise<string>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => socket.end(payload));
          let answer = '';
          socket.on('data', (chunk) => (answer += chunk));
          socket.on('close', () => resolve(answer));
          socket.on('error', reject);
        });
      const answers = [
        await raw(`GET /v1/orgs HTTP/1.1\r\nHost: x\r\nAuthorization: ${secret}\r\nContent-Length: nope\r\n\r\n`),
        await raw(`GET /v1/orgs HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${basic}\r\nX-Big: ${'x'.repeat(64 * 1024)}\r\n\r\n`),
        await raw(`GARBAGE\r\nAuthorization: ${secret}\r\n\r\n`),
      ];
      assert.match(answers[0]!, /^HTTP\/1\.1 400 /);
      assert.match(answers[0]!, /application\/problem\+json/);
      assert.match(answers[1]!, /^HTTP\/1\.1 431 /);
      assert.match(answers[2]!, /^HTTP\/1\.1 400 /);
      assert.ok(
        t.logs.some((line) => line.includes('client error')),
        'the client errors were logged',
      );
      for (const line of t.logs) {
        assert.ok(!line.includes(t.rootToken), `no line carries the root token: ${line.slice(0, 200)}`);
        assert.ok(!line.includes(basic), `no line carries the Basic credential: ${line.slice(0, 200)}`);
        assert.ok(!line.includes('very-secret-value'), 'no line carries the decoded secret');
      }
    } finally {
      await t.close();
    }
  });
});
