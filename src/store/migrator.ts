import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlSession } from './sql.js';

/**
 * prisma/migrations at the package root. This file runs from src/store (tsx) and, one level
 * deeper, from dist/src/store (compiled, and in the Docker image), so both depths are tried.
 */
const MIGRATIONS_DIR = locateMigrations();

function locateMigrations(): string {
  const candidates = ['../../prisma/migrations/', '../../../prisma/migrations/'].map((up) => fileURLToPath(new URL(up, import.meta.url)));
  return candidates.find((dir) => existsSync(dir)) ?? candidates[0]!;
}

// Arbitrary, fixed: every replica takes the same lock, so only one of them migrates at a time.
const MIGRATION_LOCK_ID = 7_263_104_552;

interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export async function readMigrations(dir: URL | string = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir instanceof URL ? fileURLToPath(dir) : dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/**
 * Applies pending migrations and records them in `_prisma_migrations` exactly as Prisma Migrate
 * does, so `prisma migrate status` and `deploy` agree with what the service applied.
 * Runs under a session-level advisory lock: a second replica waits, then finds nothing to do.
 */
export async function migrate(session: SqlSession, migrations?: Migration[]): Promise<string[]> {
  const pending = migrations ?? (await readMigrations());
  await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
  try {
    await session.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0
    )`);
    const rows = await session.query<{ migration_name: string; checksum: string }>(
      'SELECT migration_name, checksum FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const applied = new Map(rows.map((row) => [row.migration_name, row.checksum]));
    const appliedNow: string[] = [];
    for (const migration of pending) {
      const checksum = applied.get(migration.name);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new Error(`migration ${migration.name} was changed after it was applied (checksum mismatch)`);
        }
        continue;
      }
      const id = randomUUID();
      await session.exec('BEGIN');
      try {
        await session.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())', [
          id,
          migration.checksum,
          migration.name,
        ]);
        await session.exec(migration.sql);
        await session.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
        await session.exec('COMMIT');
      } catch (error) {
        await session.exec('ROLLBACK');
        throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
      }
      appliedNow.push(migration.name);
    }
    return appliedNow;
  } finally {
    await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
  }
}
