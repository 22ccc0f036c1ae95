/**
 * What a migrated Postgres (or PGlite) database holds, read from pg_catalog, in the same shape
 * that prisma-schema.ts derives from schema.prisma, and the comparison of the two.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { SqlSession } from '../../src/store/sql.js';

export interface ColumnShape {
  name: string;
  /** format_type() rendering, e.g. `timestamp(3) with time zone`; enums as `enum:<type name>`. */
  type: string;
  nullable: boolean;
  /** Normalized by `normalizeDefault`; null when the column has no default. */
  default: string | null;
}

export interface IndexShape {
  name: string;
  columns: string[];
  /** Access method: btree, hash, gin, gist, ... */
  method: string;
}

export interface ForeignKeyShape {
  name: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  /** Prisma's names: Cascade, Restrict, NoAction, SetNull, SetDefault. */
  onDelete: string;
  onUpdate: string;
}

export interface TableShape {
  name: string;
  columns: ColumnShape[];
  primaryKey: IndexShape | null;
  uniques: IndexShape[];
  indexes: IndexShape[];
  foreignKeys: ForeignKeyShape[];
}

export interface DatabaseShape {
  tables: TableShape[];
  enums: { name: string; labels: string[] }[];
}

/** Prisma Migrate's own bookkeeping table, which the schema does not describe. */
const BOOKKEEPING_TABLES = new Set(['_prisma_migrations']);

const ACTIONS: Record<string, string> = { a: 'NoAction', r: 'Restrict', c: 'Cascade', n: 'SetNull', d: 'SetDefault' };

// Everything is cast to text or boolean so that pg, PGlite and Prisma's raw queries return the same JS values.
const COLUMNS_SQL = `
  SELECT c.relname::text AS table_name, a.attname::text AS column_name,
         CASE WHEN t.typtype = 'e' THEN 'enum:' || t.typname
              WHEN et.typtype = 'e' THEN 'enum:' || et.typname || '[]'
              ELSE format_type(a.atttypid, a.atttypmod) END AS type,
         NOT a.attnotnull AS nullable,
         pg_get_expr(d.adbin, d.adrelid) AS default_expression
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
   ORDER BY c.relname, a.attnum`;

const TABLES_SQL = `
  SELECT c.relname::text AS table_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
   ORDER BY c.relname`;

// Column lists are joined with a separator no identifier here contains; arrays differ between drivers.
const INDEXES_SQL = `
  SELECT t.relname::text AS table_name, i.relname::text AS index_name, ix.indisunique AS is_unique,
         ix.indisprimary AS is_primary, am.amname::text AS method,
         (SELECT string_agg(COALESCE(a.attname::text, '<expression>'), '|' ORDER BY k.ord)
            FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
            LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum) AS columns
    FROM pg_index ix
    JOIN pg_class i ON i.oid = ix.indexrelid
    JOIN pg_class t ON t.oid = ix.indrelid
    JOIN pg_am am ON am.oid = i.relam
    JOIN pg_namespace n ON n.oid = t.relnamespace
   WHERE n.nspname = current_schema()
   ORDER BY t.relname, i.relname`;

const FOREIGN_KEYS_SQL = `
  SELECT c.conname::text AS constraint_name, t.relname::text AS table_name, r.relname::text AS referenced_table,
         c.confdeltype::text AS on_delete, c.confupdtype::text AS on_update,
         (SELECT string_agg(a.attname::text, '|' ORDER BY k.ord)
            FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS columns,
         (SELECT string_agg(a.attname::text, '|' ORDER BY k.ord)
            FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS referenced_columns
    FROM pg_constraint c
    JOIN pg_class t ON t.oid = c.conrelid
    JOIN pg_class r ON r.oid = c.confrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
   WHERE c.contype = 'f' AND n.nspname = current_schema()
   ORDER BY t.relname, c.conname`;

const ENUMS_SQL = `
  SELECT t.typname::text AS type_name, e.enumlabel::text AS label
    FROM pg_type t
    JOIN pg_enum e ON e.enumtypid = t.oid
    JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = current_schema()
   ORDER BY t.typname, e.enumsortorder`;

/** Reads the current schema of the database behind `session`. */
export async function introspectDatabase(session: Pick<SqlSession, 'query'>): Promise<DatabaseShape> {
  const tables = new Map<string, TableShape>();
  for (const row of await session.query<{ table_name: string }>(TABLES_SQL)) {
    if (BOOKKEEPING_TABLES.has(row.table_name)) continue;
    tables.set(row.table_name, { name: row.table_name, columns: [], primaryKey: null, uniques: [], indexes: [], foreignKeys: [] });
  }
  type ColumnRow = { table_name: string; column_name: string; type: string; nullable: boolean; default_expression: string | null };
  for (const row of await session.query<ColumnRow>(COLUMNS_SQL)) {
    tables.get(row.table_name)?.columns.push({
      name: row.column_name,
      type: row.type,
      nullable: row.nullable,
      default: row.default_expression === null ? null : normalizeDefault(row.default_expression),
    });
  }
  type IndexRow = { table_name: string; index_name: string; is_unique: boolean; is_primary: boolean; method: string; columns: string };
  for (const row of await session.query<IndexRow>(INDEXES_SQL)) {
    const table = tables.get(row.table_name);
    if (!table) continue;
    const shape = { name: row.index_name, columns: row.columns.split('|'), method: row.method };
    if (row.is_primary) table.primaryKey = shape;
    else if (row.is_unique) table.uniques.push(shape);
    else table.indexes.push(shape);
  }
  type ForeignKeyRow = {
    constraint_name: string;
    table_name: string;
    referenced_table: string;
    on_delete: string;
    on_update: string;
    columns: string;
    referenced_columns: string;
  };
  for (const row of await session.query<ForeignKeyRow>(FOREIGN_KEYS_SQL)) {
    tables.get(row.table_name)?.foreignKeys.push({
      name: row.constraint_name,
      columns: row.columns.split('|'),
      referencedTable: row.referenced_table,
      referencedColumns: row.referenced_columns.split('|'),
      onDelete: ACTIONS[row.on_delete] ?? row.on_delete,
      onUpdate: ACTIONS[row.on_update] ?? row.on_update,
    });
  }
  const enums = new Map<string, string[]>();
  for (const row of await session.query<{ type_name: string; label: string }>(ENUMS_SQL)) {
    enums.set(row.type_name, [...(enums.get(row.type_name) ?? []), row.label]);
  }
  return { tables: [...tables.values()], enums: [...enums].map(([name, labels]) => ({ name, labels })) };
}

/**
 * A column default as Postgres prints it (pg_get_expr), reduced to what schema.prisma can say:
 * `'x'::text` → `x`, `CURRENT_TIMESTAMP` → `now()`, `nextval(...)` → `autoincrement()`.
 * Casts are dropped because the column type is compared on its own.
 */
export function normalizeDefault(expression: string): string {
  const trimmed = expression.trim();
  if (/^nextval\(/i.test(trimmed)) return 'autoincrement()';
  if (/^(CURRENT_TIMESTAMP|now\(\))$/i.test(trimmed)) return 'now()';
  const literal = /^'((?:[^']|'')*)'(?:::[\w" .,()[\]]+)?$/.exec(trimmed);
  if (literal) return literal[1]!.replaceAll("''", "'");
  if (/^-?\d+(\.\d+)?$/.test(trimmed) || trimmed === 'true' || trimmed === 'false') return trimmed;
  return `dbgenerated(${trimmed})`;
}

/**
 * Every way `actual` differs from `expected`, one line each, or [] when they agree.
 * Extra tables, columns, indexes, foreign keys and enums in the database count as differences:
 * a migration that adds what the schema lacks is drift too.
 */
export function diffDatabaseShapes(expected: DatabaseShape, actual: DatabaseShape): string[] {
  const differences: string[] = [];
  const report = (line: string) => differences.push(line);
  const byName = <T extends { name: string }>(items: T[]) => new Map(items.map((item) => [item.name, item]));

  const actualTables = byName(actual.tables);
  for (const want of expected.tables) {
    const have = actualTables.get(want.name);
    if (!have) {
      report(`table ${want.name} is missing`);
      continue;
    }
    diffTable(want, have, report);
  }
  const expectedTables = byName(expected.tables);
  for (const have of actual.tables) {
    if (!expectedTables.has(have.name)) report(`table ${have.name} exists in the database but not in the schema`);
  }

  const actualEnums = byName(actual.enums);
  for (const want of expected.enums) {
    const have = actualEnums.get(want.name);
    if (!have) report(`enum type ${want.name} is missing`);
    else if (have.labels.join(',') !== want.labels.join(',')) {
      report(`enum type ${want.name} has labels [${have.labels.join(', ')}], schema says [${want.labels.join(', ')}]`);
    }
  }
  const expectedEnums = byName(expected.enums);
  for (const have of actual.enums) {
    if (!expectedEnums.has(have.name)) report(`enum type ${have.name} exists in the database but not in the schema`);
  }
  return differences;
}

function diffTable(want: TableShape, have: TableShape, report: (line: string) => void): void {
  const t = want.name;
  const haveColumns = new Map(have.columns.map((column) => [column.name, column]));
  for (const column of want.columns) {
    const found = haveColumns.get(column.name);
    if (!found) {
      report(`column ${t}.${column.name} is missing`);
      continue;
    }
    if (found.type !== column.type) report(`column ${t}.${column.name} has type ${found.type}, schema says ${column.type}`);
    if (found.nullable !== column.nullable) {
      report(`column ${t}.${column.name} is ${found.nullable ? 'nullable' : 'NOT NULL'}, schema says ${column.nullable ? 'optional' : 'required'}`);
    }
    if (found.default !== column.default) {
      report(`column ${t}.${column.name} has default ${found.default ?? '(none)'}, schema says ${column.default ?? '(none)'}`);
    }
  }
  const wantColumns = new Set(want.columns.map((column) => column.name));
  for (const column of have.columns) {
    if (!wantColumns.has(column.name)) report(`column ${t}.${column.name} exists in the database but not in the schema`);
  }

  const describe = (index: IndexShape | null) => (index ? `${index.name} (${index.columns.join(', ')}) using ${index.method}` : '(none)');
  if (describe(want.primaryKey) !== describe(have.primaryKey)) {
    report(`primary key of ${t} is ${describe(have.primaryKey)}, schema says ${describe(want.primaryKey)}`);
  }
  for (const [kind, wanted, found] of [
    ['unique index', want.uniques, have.uniques],
    ['index', want.indexes, have.indexes],
  ] as const) {
    const haveSet = new Set(found.map(describe));
    const wantSet = new Set(wanted.map(describe));
    for (const index of wanted) if (!haveSet.has(describe(index))) report(`${kind} ${describe(index)} on ${t} is missing`);
    for (const index of found) if (!wantSet.has(describe(index))) report(`${kind} ${describe(index)} on ${t} exists in the database but not in the schema`);
  }

  const describeKey = (key: ForeignKeyShape) =>
    `${key.name} (${key.columns.join(', ')}) → ${key.referencedTable}(${key.referencedColumns.join(', ')}) ON DELETE ${key.onDelete} ON UPDATE ${key.onUpdate}`;
  const haveKeys = new Set(have.foreignKeys.map(describeKey));
  const wantKeys = new Set(want.foreignKeys.map(describeKey));
  for (const key of want.foreignKeys) if (!haveKeys.has(describeKey(key))) report(`foreign key ${describeKey(key)} on ${t} is missing`);
  for (const key of have.foreignKeys)
    if (!wantKeys.has(describeKey(key))) report(`foreign key ${describeKey(key)} on ${t} exists in the database but not in the schema`);
}

/** A session on one pg client, as the migrator uses it. */
export function clientSession(client: pg.ClientBase): SqlSession {
  return {
    exec: async (sql) => {
      await client.query(sql);
    },
    query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
  };
}

export interface TemporaryDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database on the server of `serverUrl`; `drop()` removes it again. */
export async function createTemporaryDatabase(serverUrl: string, prefix = 'latchkey_test'): Promise<TemporaryDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        // FORCE (Postgres 13+) ends sessions a failed test may have left open.
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
