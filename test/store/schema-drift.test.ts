import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { openStore, type Store } from '../../src/store/index.js';
import { createTemporaryDatabase, type DatabaseShape, diffDatabaseShapes, introspectDatabase } from '../helpers/pg-catalog.js';
import { expectedDatabaseShape, parsePrismaSchema } from '../helpers/prisma-schema.js';

// Migrations are hand-written SQL (Prisma Migrate cannot run on these machines), so nothing but
// this test keeps them and schema.prisma in step.

const schemaText = await readFile(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8');
const logger = pino({ level: 'silent' });

type RawQueries = Pick<Store['prisma'], '$queryRawUnsafe'>;

async function introspect(client: RawQueries): Promise<DatabaseShape> {
  return introspectDatabase({
    query: async <T>(sql: string, params: unknown[] = []) => (await client.$queryRawUnsafe(sql, ...params)) as T[],
  });
}

function assertNoDrift(actual: DatabaseShape): void {
  const expected = expectedDatabaseShape(parsePrismaSchema(schemaText));
  assert.ok(actual.tables.length >= expected.tables.length && expected.tables.length > 0, 'the database has tables to compare');
  const differences = diffDatabaseShapes(expected, actual);
  assert.deepEqual(
    differences,
    [],
    `the migrated database does not match prisma/schema.prisma:\n  ${differences.join('\n  ')}\n` +
      'Write a migration in prisma/migrations/<timestamp>_<name>/migration.sql (or fix schema.prisma) so both agree.',
  );
}

// One freshly migrated PGlite database serves the whole file: creating one takes seconds.
let pglite: Store;
let migrated: DatabaseShape;
before(async () => {
  pglite = await openStore({ logger });
  migrated = await introspect(pglite.prisma);
});
after(() => pglite.close());

describe('schema drift: a freshly migrated database matches prisma/schema.prisma', () => {
  test('embedded PGlite', () => {
    assert.equal(pglite.kind, 'pglite');
    assertNoDrift(migrated);
  });

  test('Postgres (a new database on the DATABASE_URL server)', { skip: process.env.DATABASE_URL ? false : 'DATABASE_URL is not set' }, async () => {
    const database = await createTemporaryDatabase(process.env.DATABASE_URL!);
    try {
      const store = await openStore({ logger, databaseUrl: database.url });
      try {
        assert.equal(store.kind, 'postgres');
        assertNoDrift(await introspect(store.prisma));
      } finally {
        await store.close();
      }
    } finally {
      await database.drop();
    }
  });
});

describe('schema drift: a change on one side only is reported', () => {
  /** The differences between the migrated database and schema.prisma with `from` replaced by `to`. */
  function diffAfterEdit(from: string | RegExp, to: string): string[] {
    const edited = schemaText.replace(from, to);
    assert.notEqual(edited, schemaText, `the edit ${String(from)} applies to schema.prisma`);
    return diffDatabaseShapes(expectedDatabaseShape(parsePrismaSchema(edited)), migrated);
  }

  const schemaEdits: { name: string; from: string | RegExp; to: string; reported: RegExp }[] = [
    {
      name: 'a column removed from the schema',
      from: /\n {2}region {8}String\? *\n/,
      to: '\n',
      reported: /^column resources\.region exists in the database but not in the schema$/,
    },
    {
      name: 'a field added to the schema only',
      from: '  lastUsedAt                DateTime?',
      to: '  rotatedAt DateTime? @map("rotated_at") @db.Timestamptz(3)\n  lastUsedAt                DateTime?',
      reported: /^column api_keys\.rotated_at is missing$/,
    },
    {
      name: 'an optional field made required',
      from: /cloud {9}String\?/,
      to: 'cloud         String',
      reported: /^column resources\.cloud is nullable, schema says required$/,
    },
    {
      name: 'a type changed',
      from: 'activateAt          DateTime? @map("activate_at") @db.Timestamptz(3)',
      to: 'activateAt          DateTime? @map("activate_at")',
      reported: /^column signing_keys\.activate_at has type timestamp\(3\) with time zone, schema says timestamp\(3\) without time zone$/,
    },
    {
      name: 'a unique constraint removed from the schema',
      from: /(model Environment \{[^}]*?)\n {2}@@unique\(\[orgId, displayName\]\)/,
      to: '$1',
      reported:
        /^unique index environments_org_id_display_name_key \(org_id, display_name\) using btree on environments exists in the database but not in the schema$/,
    },
    {
      name: 'a field made unique in the schema only',
      from: 'purpose             String',
      to: 'purpose             String @unique',
      reported: /^unique index signing_keys_purpose_key \(purpose\) using btree on signing_keys is missing$/,
    },
    {
      name: 'an index added to the schema only',
      from: '  @@map("audit_events")',
      to: '  @@index([action])\n  @@map("audit_events")',
      reported: /^index audit_events_action_idx \(action\) using btree on audit_events is missing$/,
    },
    {
      name: 'a referential action changed',
      from: 'owner        Principal    @relation(fields: [ownerId], references: [id], onDelete: Cascade)',
      to: 'owner        Principal    @relation(fields: [ownerId], references: [id], onDelete: Restrict)',
      reported: /^foreign key api_keys_owner_id_fkey \(owner_id\) → principals\(id\) ON DELETE Restrict ON UPDATE Cascade on api_keys is missing$/,
    },
    {
      name: 'a default changed',
      from: 'status                    ApiKeyStatus @default(active)',
      to: 'status                    ApiKeyStatus @default(revoked)',
      reported: /^column api_keys\.status has default active, schema says revoked$/,
    },
    {
      name: 'an enum value added',
      from: '  fluvio_cluster\n',
      to: '  fluvio_cluster\n  flink_pool\n',
      reported: /^enum type resource_kind has labels \[.*\], schema says \[.*flink_pool.*\]$/,
    },
    {
      name: 'a table renamed',
      from: '@@map("signing_keys")',
      to: '@@map("jwt_signing_keys")',
      reported: /^table jwt_signing_keys is missing$/,
    },
  ];

  for (const edit of schemaEdits) {
    test(`schema side: ${edit.name}`, () => {
      const differences = diffAfterEdit(edit.from, edit.to);
      assert.ok(
        differences.some((line) => edit.reported.test(line)),
        `expected a difference matching ${edit.reported}, got:\n  ${differences.join('\n  ')}`,
      );
    });
  }

  test('database side: an extra column, a dropped unique index and foreign key, a changed nullability', async () => {
    const rolledBack = new Error('roll back');
    let differences: string[] = [];
    // DDL is transactional in Postgres: the shared database is left as it was.
    await pglite.prisma
      .$transaction(async (tx) => {
        await tx.$executeRawUnsafe('ALTER TABLE "organizations" ADD COLUMN "colour" TEXT');
        await tx.$executeRawUnsafe('DROP INDEX "principals_org_id_email_key"');
        await tx.$executeRawUnsafe('ALTER TABLE "role_bindings" DROP CONSTRAINT "role_bindings_principal_id_fkey"');
        await tx.$executeRawUnsafe('ALTER TABLE "resources" ALTER COLUMN "region" SET NOT NULL');
        differences = diffDatabaseShapes(expectedDatabaseShape(parsePrismaSchema(schemaText)), await introspect(tx));
        throw rolledBack;
      })
      .catch((error: unknown) => {
        if (error !== rolledBack) throw error;
      });
    for (const reported of [
      /^column organizations\.colour exists in the database but not in the schema$/,
      /^unique index principals_org_id_email_key \(org_id, email\) using btree on principals is missing$/,
      /^foreign key role_bindings_principal_id_fkey .* on role_bindings is missing$/,
      /^column resources\.region is NOT NULL, schema says optional$/,
    ]) {
      assert.ok(
        differences.some((line) => reported.test(line)),
        `expected ${reported} in:\n  ${differences.join('\n  ')}`,
      );
    }
    assert.deepEqual(
      diffDatabaseShapes(expectedDatabaseShape(parsePrismaSchema(schemaText)), await introspect(pglite.prisma)),
      [],
      'the edits were rolled back',
    );
  });

  test('the parser refuses what it cannot read instead of skipping it', () => {
    assert.throws(() => parsePrismaSchema(schemaText.replace('model SigningKey {', 'view SigningKey {')), /view blocks are not supported/);
    assert.throws(
      () => expectedDatabaseShape(parsePrismaSchema(schemaText.replace('alg                 String', 'alg                 String @db.Box'))),
      /@db\.Box on String is not supported/,
    );
  });
});
