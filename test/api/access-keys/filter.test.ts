import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { createCluster, createOrg } from '../../helpers/principals.js';
import { selfSignedCertificate } from '../../helpers/tls.js';

/**
 * The remote key filter against local HTTPS servers started here: one with a certificate the app
 * is told to trust (the test-only `ca` seam; production trusts the system CAs and
 * NODE_EXTRA_CA_CERTS), one with a certificate it does not trust.
 */
describe('access keys: remote key filter', () => {
  const trusted = selfSignedCertificate('trusted');
  const untrusted = selfSignedCertificate('untrusted');
  const hits: Record<string, number> = {};
  const received: Array<{ contentType: string | undefined; body: string }> = [];
  const sockets = new Set<Socket>();
  let server: Server;
  let rogue: Server;
  let origin: string;
  let rogueOrigin: string;
  let t: TestApp;

  const handler = (request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0]!;
    hits[path] = (hits[path] ?? 0) + 1;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ contentType: request.headers['content-type'], body });
      switch (path) {
        case '/ok':
          return response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`filter-for:${body}`);
        case '/slow':
          return; // never answers
        case '/redirect':
          return response.writeHead(302, { location: '/ok' }).end();
        case '/big':
          return response.writeHead(200).end('x'.repeat(100_000));
        case '/exact':
          return response.writeHead(200).end('y'.repeat(4096));
        case '/over':
          return response.writeHead(200).end('y'.repeat(4097));
        case '/chunked-big':
          response.writeHead(200);
          for (let i = 0; i < 10; i++) response.write('z'.repeat(1000));
          return response.end();
        case '/error':
          return response.writeHead(500).end('boom');
        case '/not-utf8':
          return response.writeHead(200).end(Buffer.from([0x66, 0xff, 0xfe, 0x80]));
        default:
          return response.writeHead(404).end();
      }
    });
  };

  const listen = async (s: Server) => {
    s.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(s.address() as AddressInfo).port}`;
  };

  before(async () => {
    server = createServer({ key: trusted.key, cert: trusted.cert }, handler);
    rogue = createServer({ key: untrusted.key, cert: untrusted.cert }, handler);
    origin = await listen(server);
    rogueOrigin = await listen(rogue);
    t = await startTestApp({
      env: { LATCHKEY_KEY_FILTER_ALLOWED_HOSTS: `${origin},${rogueOrigin}`, LATCHKEY_HASH_CONCURRENCY: '1', LOG_LEVEL: 'info' },
      keyFilterSeams: { ca: [trusted.cert] },
    });
  });
  after(async () => {
    await t.close();
    for (const socket of sockets) socket.destroy();
    await Promise.all([server, rogue].map((s) => new Promise((resolve) => s.close(resolve))));
  });

  // One cluster per app: keys differ by name, which keeps the (slow, argon2-bound) setup short.
  const clusters = new Map<TestApp, Promise<{ orgId: string; resourceId: string }>>();
  let keyNumber = 0;
  async function filteredKey(app: TestApp, url: string, extra: object = {}) {
    if (!clusters.has(app))
      clusters.set(
        app,
        createOrg(app).then(async (orgId) => ({ orgId, ...(await createCluster(app, orgId, 'fluvio_cluster')) })),
      );
    const { orgId, resourceId } = await clusters.get(app)!;
    const res = await app.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/resources/${resourceId}/access-keys`,
      headers: app.root,
      payload: { name: `filtered-${++keyNumber}`, topic: 'orders', consume: true, key_filter_remote: `tenant:${url}`, ...extra },
    });
    assert.equal(res.statusCode, 201, res.body);
    return { orgId, clusterId: resourceId, key: res.json().key as string };
  }

  /** Resolves once the remote has received one more request on `path` than `before`. */
  async function untilRemoteSees(path: string, before: number) {
    for (let i = 0; i < 500 && (hits[path] ?? 0) <= before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok((hits[path] ?? 0) > before, `the remote saw a request on ${path}`);
  }

  const verify = (app: TestApp, key: { key: string; clusterId: string }, params?: Record<string, string>, operation = 'consume') =>
    app.inject({
      method: 'POST',
      url: '/v1/verify/access-key',
      headers: app.root,
      payload: { access_key: key.key, cluster_id: key.clusterId, operation, topic: 'orders', ...(params ? { params } : {}) },
    });

  test('a consume POSTs the parameter as text/plain UTF-8 and returns the answer as key_filter', async () => {
    const k = await filteredKey(t, `https://${origin}/ok`);
    const value = 'acme-ünïcode-42';
    const res = await verify(t, k, { tenant: value, other: 'x' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().code, 'VALID', res.body);
    assert.equal(res.json().valid, true);
    assert.equal(res.json().key_filter, `filter-for:${value}`);
    const last = received.at(-1)!;
    assert.equal(last.body, value);
    assert.equal(last.contentType, 'text/plain; charset=utf-8');
    const logs = t.logs.join('\n');
    assert.ok(!logs.includes(value) && !logs.includes(`filter-for:${value}`), 'neither the parameter nor the filter is logged');
  });

  test('the parameter missing is KEY_FILTER_REQUIRED; produce does not fetch', async () => {
    const k = await filteredKey(t, `https://${origin}/ok`, { consume: undefined });
    const before = hits['/ok'] ?? 0;
    assert.deepEqual((await verify(t, k)).json(), { valid: false, code: 'KEY_FILTER_REQUIRED' });
    assert.deepEqual((await verify(t, k, { other: 'x' })).json(), { valid: false, code: 'KEY_FILTER_REQUIRED' });
    const produced = (await verify(t, k, undefined, 'produce')).json();
    assert.equal(produced.code, 'VALID');
    assert.equal(produced.key_filter, undefined);
    assert.equal(hits['/ok'] ?? 0, before);
  });

  test('a remote that never answers is KEY_FILTER_UNAVAILABLE within 2.5 s, holds no hash slot and blocks no other verification', async () => {
    const slow = await filteredKey(t, `https://${origin}/slow`);
    const other = await filteredKey(t, `https://${origin}/ok`);
    const slowHits = hits['/slow'] ?? 0;
    let slowAnswered = false;
    const pending = verify(t, slow, { tenant: 'a' }).finally(() => (slowAnswered = true));
    await untilRemoteSees('/slow', slowHits);
    const started = Date.now();
    // LATCHKEY_HASH_CONCURRENCY=1: had the slow fetch kept the slot, this argon2 run would wait for it.
    const meanwhile = await verify(t, other, { tenant: 'b' });
    assert.equal(meanwhile.json().code, 'VALID');
    assert.equal(slowAnswered, false, 'the unrelated verification was answered while the slow one still waited');
    const res = await pending;
    const elapsed = Date.now() - started;
    assert.deepEqual(res.json(), { valid: false, code: 'KEY_FILTER_UNAVAILABLE' });
    assert.ok(elapsed <= 2500, `answered after ${elapsed} ms`);
  });

  test('a redirect is not followed: KEY_FILTER_UNAVAILABLE', async () => {
    const k = await filteredKey(t, `https://${origin}/redirect`);
    const okBefore = hits['/ok'] ?? 0;
    assert.equal((await verify(t, k, { tenant: 'a' })).json().code, 'KEY_FILTER_UNAVAILABLE');
    assert.equal(hits['/ok'] ?? 0, okBefore);
  });

  test('answers over 4 KiB (100 KB, 4097 bytes, chunked), a 500 and invalid UTF-8 are KEY_FILTER_UNAVAILABLE; exactly 4 KiB is fine', async () => {
    for (const path of ['/big', '/over', '/chunked-big', '/error', '/not-utf8', '/missing']) {
      const k = await filteredKey(t, `https://${origin}${path}`);
      assert.deepEqual((await verify(t, k, { tenant: 'a' })).json(), { valid: false, code: 'KEY_FILTER_UNAVAILABLE' }, path);
    }
    const exact = await filteredKey(t, `https://${origin}/exact`);
    assert.equal((await verify(t, exact, { tenant: 'a' })).json().key_filter, 'y'.repeat(4096));
  });

  test('a certificate the app does not trust is KEY_FILTER_UNAVAILABLE, even for an allowed host', async () => {
    const k = await filteredKey(t, `https://${rogueOrigin}/ok`);
    const before = received.length;
    assert.equal((await verify(t, k, { tenant: 'a' })).json().code, 'KEY_FILTER_UNAVAILABLE');
    assert.equal(received.length, before, 'no request reached the untrusted server');
  });

  test('with LATCHKEY_KEY_FILTER_CACHE_SECONDS the answer is cached per (key, parameter value); beyond LATCHKEY_KEY_FILTER_MAX_CONCURRENCY outstanding calls verification fails closed at once', async () => {
    const tuned = await startTestApp({
      env: {
        LATCHKEY_KEY_FILTER_ALLOWED_HOSTS: origin,
        LATCHKEY_KEY_FILTER_CACHE_SECONDS: '60',
        LATCHKEY_KEY_FILTER_MAX_CONCURRENCY: '1',
        LATCHKEY_KEY_FILTER_TIMEOUT_MS: '1500',
      },
      keyFilterSeams: { ca: [trusted.cert] },
    });
    try {
      const k = await filteredKey(tuned, `https://${origin}/ok`);
      const start = hits['/ok'] ?? 0;
      assert.equal((await verify(tuned, k, { tenant: 'one' })).json().key_filter, 'filter-for:one');
      assert.equal((await verify(tuned, k, { tenant: 'one' })).json().key_filter, 'filter-for:one');
      assert.equal(hits['/ok']! - start, 1);
      assert.equal((await verify(tuned, k, { tenant: 'two' })).json().key_filter, 'filter-for:two');
      assert.equal(hits['/ok']! - start, 2);

      const slow = await filteredKey(tuned, `https://${origin}/slow`);
      const slowHits = hits['/slow'] ?? 0;
      const pending = verify(tuned, slow, { tenant: 'a' });
      await untilRemoteSees('/slow', slowHits);
      // k's hash check is cached: only the filter call is refused, because one is outstanding.
      assert.equal((await verify(tuned, k, { tenant: 'b' })).json().code, 'KEY_FILTER_UNAVAILABLE');
      assert.equal((await pending).json().code, 'KEY_FILTER_UNAVAILABLE');
      assert.equal((await verify(tuned, k, { tenant: 'c' })).json().code, 'VALID');
    } finally {
      await tuned.close();
    }
    // The default (0) does not cache.
    const k = await filteredKey(t, `https://${origin}/ok`);
    const start = hits['/ok'] ?? 0;
    await verify(t, k, { tenant: 'one' });
    await verify(t, k, { tenant: 'one' });
    assert.equal(hits['/ok']! - start, 2);
  });
});
