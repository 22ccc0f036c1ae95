import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestApp, TEST_DATABASE_URL } from '../helpers/app.js';

// CI's Postgres pass sets LATCHKEY_TEST_REQUIRE_POSTGRES=1: the replica, fault and quota tests that
// only prove something on Postgres must have run there, so this fails if the pass fell back to the
// embedded store or could not reach Postgres (it never reports success without it).

const required = process.env.LATCHKEY_TEST_REQUIRE_POSTGRES === '1';

test(`the tests run on the store this pass is for (${required ? 'Postgres required' : TEST_DATABASE_URL ? 'Postgres' : 'embedded'})`, async () => {
  if (required) assert.ok(TEST_DATABASE_URL, 'LATCHKEY_TEST_REQUIRE_POSTGRES=1 but DATABASE_URL is not set');
  const a = await startTestApp();
  try {
    assert.equal(a.store.kind, TEST_DATABASE_URL ? 'postgres' : 'pglite');
    const ready = await a.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200, 'the database of this pass answers');
    if (a.store.kind === 'postgres') {
      // Two replicas hear each other through LISTEN/NOTIFY: what the invalidation tests rely on.
      const b = await startTestApp();
      try {
        assert.ok(a.store.bus.healthy && b.store.bus.healthy);
        const heard = new Promise<void>((resolve) => {
          const off = b.store.bus.subscribe((invalidation) => {
            if (invalidation !== 'all' && invalidation.ids.includes('ci-guard-probe')) {
              off();
              resolve();
            }
          });
        });
        await a.store.prisma.$executeRawUnsafe(`SELECT pg_notify('latchkey_invalidation', '{"kind":"api_key","ids":["ci-guard-probe"]}')`);
        await Promise.race([heard, new Promise((_, reject) => setTimeout(() => reject(new Error('no NOTIFY between replicas in 5 s')), 5_000))]);
      } finally {
        await b.close();
      }
    }
  } finally {
    await a.close();
  }
});
