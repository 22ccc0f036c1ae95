import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions } from 'fastify';
import pino from 'pino';
import { DEFAULT_STORE_LIMITS, LISTENER_APPLICATION_NAME, openStore, type StoreLimits } from '../../src/store/index.js';
import { startTestApp, TEST_DATABASE_URL, type TestApp, uniqueName } from '../helpers/app.js';
import { basic, createAsRoot, createCluster, createOrg, credentialFor } from '../helpers/principals.js';
import { within } from '../helpers/server-process.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

// Replica A reaches Postgres through a TCP proxy that refuses, resets or black-holes; replica B is
// connected directly and makes the changes A must not miss. Postgres only: the embedded store has
// no network to lose (its equivalents are the lock and kill -9 tests in this directory).

/** Short bounds so the suite stays fast; the real defaults are checked once below. */
const FAST: StoreLimits = {
  connectTimeoutMs: 1_000,
  queryTimeoutMs: 2_000,
  heartbeatIntervalMs: 500,
  heartbeatTimeoutMs: 1_500,
  reconnectMinMs: 100,
  reconnectMaxMs: 500,
};
/** The bounds: every request answered within 15 s, ready again within 30 s. */
const ANSWER_WITHIN_MS = 15_000;
const READY_WITHIN_MS = 30_000;

test('the documented default bounds', () => {
  assert.deepEqual(
    { ...DEFAULT_STORE_LIMITS },
    { connectTimeoutMs: 2_000, queryTimeoutMs: 10_000, heartbeatIntervalMs: 5_000, heartbeatTimeoutMs: 5_000, reconnectMinMs: 250, reconnectMaxMs: 5_000 },
  );
});

if (!TEST_DATABASE_URL) {
  process.stdout.write('# note: network fault tests are Postgres only; they run on the Postgres pass (DATABASE_URL)\n');
} else {
  const databaseUrl = TEST_DATABASE_URL;
  const target = (() => {
    const url = new URL(databaseUrl);
    return { host: url.hostname, port: Number(url.port || 5432) };
  })();

  describe('database faults between a replica and Postgres', () => {
    let proxy: TcpProxy;
    let a: TestApp;
    let b: TestApp;
    let orgId: string;
    let resourceId: string;
    let ownerId: string;
    let admin: { authorization: string; keyId: string; secret: string };

    before(async () => {
      proxy = await TcpProxy.start(target);
      const store = await openStore({ databaseUrl: proxy.urlFor(databaseUrl), logger: pino({ level: 'silent' }), limits: FAST });
      a = await startTestApp({ store });
      b = await startTestApp();
      orgId = await createOrg(b);
      ({ resourceId } = await createCluster(b, orgId));
      ownerId = (await createAsRoot(b, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName() })).id;
      admin = await credentialFor(b, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    });
    after(async () => {
      await b?.close();
      await a?.close();
      await a?.store.close();
      await proxy?.close();
    });

    async function newKey() {
      const key = await createAsRoot(b, `/v1/orgs/${orgId}/api-keys`, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId } });
      return { id: key.id as string, payload: { key: key.id, secret: key.secret, resource_id: resourceId } };
    }
    const verify = async (app: TestApp, payload: object) => {
      const res = await app.inject({ method: 'POST', url: '/v1/verify/api-key', headers: app.root, payload });
      return res.statusCode === 200 ? (res.json().code as string) : `HTTP ${res.statusCode}`;
    };
    const revoke = async (id: string) => {
      const res = await b.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/api-keys/${id}`, headers: b.root });
      assert.equal(res.statusCode, 204, res.body);
    };

    /** One request per route family, each needing the database (uncached credentials included). */
    function everyFamily(uncached: object, scratchKeyId: string): InjectOptions[] {
      const root = a.root;
      const org = `/v1/orgs/${orgId}`;
      const adminBasic = { authorization: admin.authorization };
      return [
        { method: 'GET', url: '/v1/orgs', headers: root },
        { method: 'POST', url: '/v1/orgs', headers: root, payload: { name: uniqueName('org') } },
        { method: 'GET', url: org, headers: root },
        { method: 'PATCH', url: org, headers: root, payload: { display_name: 'changed during an outage' } },
        { method: 'GET', url: `${org}/environments`, headers: root },
        { method: 'POST', url: `${org}/environments`, headers: root, payload: { display_name: uniqueName('env') } },
        { method: 'GET', url: `${org}/resources/${resourceId}`, headers: root },
        { method: 'GET', url: `${org}/service-accounts`, headers: root },
        { method: 'POST', url: `${org}/service-accounts`, headers: root, payload: { display_name: uniqueName() } },
        { method: 'GET', url: `${org}/users`, headers: root },
        { method: 'GET', url: `${org}/role-bindings`, headers: root },
        { method: 'GET', url: `${org}/api-keys`, headers: root },
        { method: 'GET', url: `${org}/api-keys/${scratchKeyId}`, headers: root },
        { method: 'DELETE', url: `${org}/api-keys/${scratchKeyId}`, headers: root },
        { method: 'GET', url: `${org}/audit-events`, headers: root },
        { method: 'POST', url: '/v1/verify/api-key', headers: root, payload: uncached },
        {
          method: 'POST',
          url: '/oauth2/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: `grant_type=client_credentials&client_id=${admin.keyId}&client_secret=${admin.secret}`,
        },
        { method: 'GET', url: '/iam/v2/api-keys', headers: adminBasic },
        { method: 'GET', url: '/iam/v2/service-accounts', headers: adminBasic },
        { method: 'GET', url: `${org}/environments`, headers: basic(admin.keyId, admin.secret) },
      ];
    }

    async function assertAllUnavailable(uncached: object, scratchKeyId: string): Promise<void> {
      const requests = everyFamily(uncached, scratchKeyId);
      for (const request of requests) {
        const started = Date.now();
        const res = await a.inject(request);
        const took = Date.now() - started;
        const what = `${request.method} ${request.url}`;
        assert.equal(res.statusCode, 503, `${what}: ${res.body}`);
        assert.ok(Number(res.headers['retry-after']) > 0, `${what}: Retry-After`);
        let detail: string;
        if (request.url!.toString().startsWith('/iam/v2/')) {
          // The Confluent-compatible routes answer errors in Confluent's shape (API.md).
          assert.equal(res.headers['content-type'], 'application/json; charset=utf-8', what);
          assert.equal(String(res.json().errors[0].status), '503', what);
          detail = res.json().errors[0].detail;
        } else {
          assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8', what);
          assert.equal(res.json().code, 'store_unavailable', what);
          detail = res.json().detail;
        }
        assert.ok(!/ECONN|pg_|prisma|terminated|timeout/i.test(detail), `${what}: no internals in ${detail}`);
        assert.ok(took < ANSWER_WITHIN_MS, `${what} answered in ${took} ms`);
      }
      const ready = await a.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      assert.ok(ready.headers['retry-after']);
    }

    /** Restores the network, then: ready within 30 s, the revocation made meanwhile holds, and a new one propagates. */
    async function assertRecovers(revokedMeanwhile: object, scratch: { payload: object }): Promise<void> {
      await proxy.restore();
      const readyAfter = await within(READY_WITHIN_MS, async () => (await a.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 200);
      assert.ok(readyAfter < READY_WITHIN_MS, 'ready again without a restart');
      assert.ok((await within(READY_WITHIN_MS, async () => a.store.bus.healthy)) < READY_WITHIN_MS, 'the LISTEN connection is back');
      assert.equal(await verify(a, revokedMeanwhile), 'REVOKED', 'a revocation made during the fault is not forgotten');
      assert.equal(await verify(a, scratch.payload), 'VALID', 'the DELETE answered 503 changed nothing');

      const fresh = await newKey();
      assert.equal(await verify(a, fresh.payload), 'VALID');
      assert.equal(await verify(a, fresh.payload), 'VALID');
      await revoke(fresh.id);
      const took = await within(5_000, async () => (await verify(a, fresh.payload)) !== 'VALID', 20);
      assert.ok(took < 2_000, `revocation propagated after the fault in ${took} ms`);
    }

    for (const fault of ['refuse', 'reset', 'blackhole'] as const) {
      test(`${fault}: every route family answers 503 problem+json with Retry-After in time, /readyz 503, then recovers by itself`, async () => {
        const cached = await newKey();
        const uncached = await newKey();
        const scratch = await newKey();
        assert.equal(await verify(a, cached.payload), 'VALID');
        assert.equal(await verify(a, scratch.payload), 'VALID');

        await proxy[fault]();
        // The listener notices at once (refuse, reset) or when its heartbeat does not come back (black hole).
        const noticed = await within(FAST.heartbeatIntervalMs + FAST.heartbeatTimeoutMs + 2_000, async () => !a.store.bus.healthy, 20);
        assert.ok(noticed < Infinity, 'the replica noticed that it may miss revocations');
        // Fail closed: with the channel down the cache does not answer, and the store is down.
        assert.equal(await verify(a, cached.payload), 'HTTP 503');
        await assertAllUnavailable(uncached.payload, scratch.id);

        await revoke(cached.id);
        await assertRecovers(cached.payload, scratch);
      });
    }

    test('pool connections terminated under the service are replaced: no 500, no crash', async () => {
      await proxy.reset();
      await proxy.restore();
      // The first requests may meet pooled connections that were reset; none may be a 500.
      for (let i = 0; i < 5; i++) {
        const res = await a.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers: a.root });
        assert.ok([200, 503].includes(res.statusCode), res.body);
      }
      assert.ok(
        (await within(READY_WITHIN_MS, async () => (await a.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers: a.root })).statusCode === 200)) <
          Infinity,
      );
    });

    test('half-open LISTEN connection: a revoked key stops verifying within the heartbeat bound, through the store', async () => {
      assert.ok((await within(READY_WITHIN_MS, async () => a.store.bus.healthy)) < Infinity);
      const key = await newKey();
      assert.equal(await verify(a, key.payload), 'VALID');
      assert.equal(await verify(a, key.payload), 'VALID');

      // Only the LISTEN connection goes silent; queries still work.
      await proxy.blackhole(LISTENER_APPLICATION_NAME);
      await revoke(key.id);
      const revokedAt = Date.now();
      const took = await within(15_000, async () => (await verify(a, key.payload)) !== 'VALID', 50);
      assert.ok(took < FAST.heartbeatIntervalMs + FAST.heartbeatTimeoutMs + 1_000, `a revoked key verified for ${took} ms`);
      assert.equal(await verify(a, key.payload), 'REVOKED', 'answered from the store, not 503');
      assert.equal(a.store.bus.healthy, false);
      // While the channel is not proven alive, nothing is served from the caches: a key revoked now is seen at once.
      const second = await newKey();
      assert.equal(await verify(a, second.payload), 'VALID');
      await revoke(second.id);
      assert.equal(await verify(a, second.payload), 'REVOKED');
      assert.ok(Date.now() - revokedAt < 15_000);

      await proxy.restore();
      assert.ok((await within(READY_WITHIN_MS, async () => a.store.bus.healthy)) < Infinity, 'the listener reconnected');
      const third = await newKey();
      assert.equal(await verify(a, third.payload), 'VALID');
      await revoke(third.id);
      assert.ok((await within(5_000, async () => (await verify(a, third.payload)) !== 'VALID', 20)) < 2_000);
    });

    test('black-holed database with the default bounds: a write (transaction) and a read on a warm pool answer 503 within 15 s', async () => {
      const own = await TcpProxy.start(target);
      const store = await openStore({ databaseUrl: own.urlFor(databaseUrl), logger: pino({ level: 'silent' }) });
      const c = await startTestApp({ store });
      try {
        // Open pooled connections that will go silent (the worst case: no connect timeout helps).
        await Promise.all(Array.from({ length: 4 }, () => c.inject({ method: 'GET', url: `/v1/orgs/${orgId}/environments`, headers: c.root })));
        await own.blackhole();
        for (const request of [
          { method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: c.root, payload: { display_name: uniqueName('env') } },
          { method: 'GET', url: `/v1/orgs/${orgId}`, headers: c.root },
        ] as InjectOptions[]) {
          const started = Date.now();
          const res = await c.inject(request);
          const took = Date.now() - started;
          assert.equal(res.statusCode, 503, res.body);
          assert.ok(took < ANSWER_WITHIN_MS, `${request.method} ${request.url} answered in ${took} ms`);
        }
      } finally {
        await own.restore();
        await c.close();
        await store.close();
        await own.close();
      }
    });

    test('half-open LISTEN with the default bounds: a revoked key never verifies for more than 15 s', async () => {
      const own = await TcpProxy.start(target);
      const store = await openStore({ databaseUrl: own.urlFor(databaseUrl), logger: pino({ level: 'silent' }) });
      const c = await startTestApp({ store });
      try {
        const key = await newKey();
        assert.equal(await verify(c, key.payload), 'VALID');
        await own.blackhole(LISTENER_APPLICATION_NAME);
        await revoke(key.id);
        const took = await within(20_000, async () => (await verify(c, key.payload)) !== 'VALID', 100);
        assert.ok(took <= 15_000, `a revoked key verified for ${took} ms with the default heartbeat`);
      } finally {
        await c.close();
        await store.close();
        await own.close();
      }
    });
  });
}
