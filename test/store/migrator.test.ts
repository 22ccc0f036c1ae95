import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { migrate, readMigrations } from '../../src/store/migrator.js';
import type { SqlSession } from '../../src/store/sql.js';
import { clientSession, createTemporaryDatabase, type TemporaryDatabase } from '../helpers/pg-catalog.js';

const migrationsDir = new URL('../../prisma/migrations/', import.meta.url);

/** Names and sha256 checksums of the migration files, read independently of the migrator. */
async function migrationFiles(): Promise<{ name: string; checksum: string }[]> {
  const entries = await readdir(migrationsDir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => ({
      name,
      checksum: createHash('sha256')
        .update(await readFile(new URL(`${name}/migration.sql`, migrationsDir)))
        .digest('hex'),
    })),
  );
}

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  started_at: Date;
  logs: string | null;
  applied_steps_count: number;
}

const recorded = (session: SqlSession) => session.query<MigrationRow>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name');

const tableExists = async (session: SqlSession, name: string) =>
  (await session.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [name]))[0]?.found != null;

let schemaCounter = 0;
/** Points the session at a new, empty schema: each case migrates from nothing without a new database. */
async function freshSchema(session: SqlSession): Promise<string> {
  const schema = `migrator_case_${++schemaCounter}_${process.pid}`;
  await session.exec(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}"`);
  return schema;
}

interface Target {
  name: string;
  skip: string | false;
  open(): Promise<SqlSession>;
  close(): Promise<void>;
}

function pgliteTarget(): Target {
  let db: PGlite;
  return {
    name: 'PGlite',
    skip: false,
    open: async () => {
      db = await PGlite.create();
      return {
        exec: async (sql) => {
          await db.exec(sql);
        },
        query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
      };
    },
    close: () => db.close(),
  };
}

let database: TemporaryDatabase | undefined;
const postgresClients: pg.Client[] = [];
async function postgresClient(): Promise<pg.Client> {
  database ??= await createTemporaryDatabase(process.env.DATABASE_URL!, 'latchkey_migrator');
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  postgresClients.push(client);
  return client;
}

function postgresTarget(): Target {
  return {
    name: 'Postgres',
    skip: process.env.DATABASE_URL ? false : 'DATABASE_URL is not set',
    open: async () => clientSession(await postgresClient()),
    close: async () => {
      await Promise.all(postgresClients.splice(0).map((client) => client.end()));
      await database?.drop();
      database = undefined;
    },
  };
}

for (const target of [pgliteTarget(), postgresTarget()]) {
  describe(`migrator on ${target.name}`, { skip: target.skip }, () => {
    let session: SqlSession;
    before(async () => {
      session = await target.open();
    });
    after(() => target.close());

    test('applies every migration once and records it as Prisma Migrate does', async () => {
      await freshSchema(session);
      const files = await migrationFiles();
      assert.ok(files.length > 0);
      assert.deepEqual(
        await migrate(session),
        files.map((file) => file.name),
      );

      const rows = await recorded(session);
      assert.deepEqual(
        rows.map((row) => row.migration_name),
        files.map((file) => file.name),
        'one row per migration',
      );
      for (const [i, row] of rows.entries()) {
        assert.equal(row.checksum, files[i]!.checksum, `${row.migration_name}: sha256 of migration.sql`);
        assert.match(row.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        assert.ok(row.finished_at instanceof Date, `${row.migration_name} is finished`);
        assert.ok(row.finished_at >= row.started_at);
        assert.equal(row.rolled_back_at, null);
        assert.equal(row.logs, null);
        assert.equal(row.applied_steps_count, 1);
      }
    });

    test('a second run is a no-op', async () => {
      await freshSchema(session);
      await migrate(session);
      const before = await recorded(session);
      assert.deepEqual(await migrate(session), []);
      assert.deepEqual(await recorded(session), before);
    });

    test('a migration file changed after it was applied is refused', async () => {
      await freshSchema(session);
      const migrations = await readMigrations();
      await migrate(session, migrations);
      const before = await recorded(session);
      const edited = migrations.map((migration, i) => {
        if (i !== 0) return migration;
        const sql = `${migration.sql}\n-- edited after release\n`;
        return { ...migration, sql, checksum: createHash('sha256').update(sql).digest('hex') };
      });
      await assert.rejects(migrate(session, edited), new RegExp(`migration ${migrations[0]!.name} was changed after it was applied`));
      assert.deepEqual(await recorded(session), before);
    });

    test('a new migration is applied on top of those already applied', async () => {
      await freshSchema(session);
      const migrations = await readMigrations();
      await migrate(session, migrations);
      const sql = 'ALTER TABLE "organizations" ADD COLUMN "motto" TEXT;';
      const added = { name: '29991231000000_add_motto', sql, checksum: createHash('sha256').update(sql).digest('hex') };
      assert.deepEqual(await migrate(session, [...migrations, added]), [added.name]);
      assert.equal((await recorded(session)).length, migrations.length + 1);
    });

    test('a failing migration is rolled back and not recorded, so a fixed one can run', async () => {
      await freshSchema(session);
      const migrations = await readMigrations();
      await migrate(session, migrations);
      const broken = 'CREATE TABLE "half_done" ("id" TEXT); SELECT * FROM "no_such_table";';
      const name = '29991231000000_broken';
      const checksum = (sql: string) => createHash('sha256').update(sql).digest('hex');
      await assert.rejects(migrate(session, [...migrations, { name, sql: broken, checksum: checksum(broken) }]), new RegExp(`migration ${name} failed`));
      assert.equal(await tableExists(session, 'half_done'), false, 'the statements before the failure were rolled back');
      assert.equal((await recorded(session)).length, migrations.length, 'the failed migration left no row');

      const fixed = 'CREATE TABLE "half_done" ("id" TEXT);';
      assert.deepEqual(await migrate(session, [...migrations, { name, sql: fixed, checksum: checksum(fixed) }]), [name]);
      assert.equal(await tableExists(session, 'half_done'), true);
    });

    if (target.name === 'Postgres') {
      test('two replicas migrating at once: both succeed and each migration runs once', async () => {
        const [first, second] = [clientSession(await postgresClient()), clientSession(await postgresClient())];
        const schema = await freshSchema(first);
        await second.exec(`SET search_path TO "${schema}"`);
        const files = await migrationFiles();

        const results = await Promise.all([migrate(first), migrate(second)]);
        assert.deepEqual(
          results.flat().sort(),
          files.map((file) => file.name),
          'every migration applied by exactly one of them',
        );
        assert.deepEqual(
          (await recorded(first)).map((row) => row.migration_name),
          files.map((file) => file.name),
        );
      });
    }
  });
}
