import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import pino from 'pino';
import { openStore, type Store } from '../../src/store/index.js';

const logger = pino({ level: 'silent' });
const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-maintenance-'));
after(() => rm(dataDir, { recursive: true, force: true }));

async function plannerRowEstimate(store: Store, table: string): Promise<number> {
  const [row] = await store.prisma.$queryRawUnsafe<Array<{ reltuples: number }>>(
    `SELECT reltuples::float8 AS reltuples FROM pg_class WHERE relname = $1`,
    table,
  );
  return Number(row?.reltuples);
}

// PGlite has no autovacuum: without the store's own ANALYZE the planner never learns table sizes.
test('the embedded store analyzes its tables when it opens', async () => {
  const first = await openStore({ dataDir, logger });
  await first.prisma.$executeRawUnsafe(
    `INSERT INTO organizations (id, name, display_name) SELECT 'org-m' || g, 'maintenance-' || g, 'm' FROM generate_series(1, 500) g`,
  );
  await first.close();

  const reopened = await openStore({ dataDir, logger });
  try {
    assert.equal(await plannerRowEstimate(reopened, 'organizations'), 500);
  } finally {
    await reopened.close();
  }
});
