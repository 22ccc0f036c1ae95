import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { startTestApp, TEST_DATABASE_URL, type TestApp, uniqueName } from '../helpers/app.js';
import { kill9, type ServerProcess, startServer, TEST_MASTER_KEY, within } from '../helpers/server-process.js';

// pg_terminate_backend (what a Postgres restart or a failover does to every connection) used to
// kill the process: the listener's reconnect path left the failed client without an error
// listener. A real child process proves the process lives; an in-process replica makes the
// revocation that must still reach it. Postgres only: the embedded store has no backends.

if (!TEST_DATABASE_URL) {
  process.stdout.write('# note: pg_terminate_backend tests are Postgres only; they run on the Postgres pass (DATABASE_URL)\n');
} else {
  const databaseUrl = TEST_DATABASE_URL;

  describe('every backend of the database terminated', () => {
    let server: ServerProcess;
    let b: TestApp;
    let admin: pg.Client;

    before(async () => {
      server = await startServer({ DATABASE_URL: databaseUrl, LATCHKEY_MASTER_KEY: TEST_MASTER_KEY, LOG_LEVEL: 'warn' });
      b = await startTestApp();
      admin = new pg.Client({ connectionString: databaseUrl });
      admin.on('error', () => undefined);
      await admin.connect();
    });
    after(async () => {
      await kill9(server);
      await b?.close();
      await admin?.end().catch(() => undefined);
    });

    async function terminateAll(): Promise<number> {
      const { rows } = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()) t`,
      );
      return Number(rows[0]!.n);
    }

    test('the process lives, is ready again, and revocations still reach it (twice in a row)', async () => {
      const org = await server.request('POST', '/v1/orgs', { name: uniqueName('org') });
      assert.equal(org.status, 201);
      const orgId = org.json.id as string;
      const env = await server.request('POST', `/v1/orgs/${orgId}/environments`, { display_name: 'e' });
      const resource = await server.request('POST', `/v1/orgs/${orgId}/resources`, { kind: 'kafka_cluster', display_name: 'c', environment_id: env.json.id });
      const owner = await server.request('POST', `/v1/orgs/${orgId}/service-accounts`, { display_name: 'o' });
      const verify = async (payload: object) => {
        const res = await server.request('POST', '/v1/verify/api-key', payload);
        return res.status === 200 ? (res.json.code as string) : `HTTP ${res.status}`;
      };

      for (let round = 1; round <= 2; round++) {
        const key = await server.request('POST', `/v1/orgs/${orgId}/api-keys`, {
          owner: owner.json.id,
          scope: { type: 'resource', resource_id: resource.json.id },
        });
        assert.equal(key.status, 201, JSON.stringify(key.json));
        const payload = { key: key.json.id, secret: key.json.secret, resource_id: resource.json.id };
        assert.equal(await verify(payload), 'VALID');
        assert.equal(await verify(payload), 'VALID', 'cached');

        const terminated = await terminateAll();
        assert.ok(terminated >= 2, `terminated ${terminated} backends (the server's pool and listener at least)`);
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.ok(server.alive(), `round ${round}: the process died:\n${server.stderr()}`);
        assert.equal((await fetch(`${server.url}/healthz`)).status, 200);

        const ready = await within(30_000, async () => (await server.request('GET', '/readyz')).status === 200, 200);
        assert.ok(ready < Infinity, `round ${round}: not ready again`);
        // The in-process replica lost its connections too; its pool replaces them.
        const del = await within(
          30_000,
          async () => (await b.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/api-keys/${key.json.id}`, headers: b.root })).statusCode === 204,
          200,
        );
        assert.ok(del < Infinity, 'the other replica recovered and revoked the key');
        const took = await within(10_000, async () => (await verify(payload)) === 'REVOKED', 50);
        assert.ok(took < 10_000, `round ${round}: the revocation did not reach the process`);
        assert.ok(server.alive());
      }
      assert.doesNotMatch(server.stderr(), /Unhandled|uncaught/i);
    });
  });
}
