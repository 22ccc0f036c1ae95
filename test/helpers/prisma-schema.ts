/**
 * A small parser for the subset of the Prisma schema language this project uses, and the
 * Postgres catalog shape that `prisma migrate` would produce from it. `@prisma/internals`
 * (getDMMF) is not installed, so the drift test reads schema.prisma itself. Anything the parser
 * does not understand is an error, never silently ignored: a drift test that skips what it cannot
 * read would pass for the wrong reason.
 */
import type { ColumnShape, DatabaseShape, ForeignKeyShape, IndexShape, TableShape } from './pg-catalog.js';

export interface PrismaAttribute {
  /** `id`, `default`, `db.Timestamptz`, `relation`, ... (without the `@` or `@@`). */
  name: string;
  args: AttributeArgs;
}

export type ArgValue =
  | { kind: 'string'; value: string }
  | { kind: 'identifier'; value: string }
  | { kind: 'number'; value: string }
  | { kind: 'call'; name: string; args: AttributeArgs }
  | { kind: 'list'; items: ArgValue[] };

export interface AttributeArgs {
  positional: ArgValue[];
  named: Record<string, ArgValue>;
}

export interface PrismaField {
  name: string;
  type: string;
  optional: boolean;
  list: boolean;
  attributes: PrismaAttribute[];
}

export interface PrismaModel {
  name: string;
  fields: PrismaField[];
  attributes: PrismaAttribute[];
}

export interface PrismaEnum {
  name: string;
  values: { name: string; dbName: string }[];
  dbName: string;
}

export interface PrismaSchema {
  models: PrismaModel[];
  enums: PrismaEnum[];
}

const SCALARS = new Set(['String', 'Int', 'BigInt', 'Float', 'Decimal', 'Boolean', 'DateTime', 'Json', 'Bytes']);

export function parsePrismaSchema(text: string): PrismaSchema {
  const schema: PrismaSchema = { models: [], enums: [] };
  let block: { kind: string; name: string; lines: { text: string; line: number }[] } | undefined;
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = stripComment(lines[index]!).trim();
    if (line === '') continue;
    if (!block) {
      const open = /^(model|enum|generator|datasource|view|type)\s+(\w+)\s*\{$/.exec(line);
      if (!open) throw new SyntaxError(`schema.prisma:${index + 1}: expected a block, found "${line}"`);
      if (open[1] === 'view' || open[1] === 'type') {
        throw new SyntaxError(`schema.prisma:${index + 1}: ${open[1]} blocks are not supported by the drift test`);
      }
      block = { kind: open[1]!, name: open[2]!, lines: [] };
    } else if (line === '}') {
      if (block.kind === 'model') schema.models.push(parseModel(block.name, block.lines));
      if (block.kind === 'enum') schema.enums.push(parseEnum(block.name, block.lines));
      block = undefined;
    } else {
      block.lines.push({ text: line, line: index + 1 });
    }
  }
  if (block) throw new SyntaxError(`schema.prisma: block ${block.name} is not closed`);
  return schema;
}

function parseModel(name: string, lines: { text: string; line: number }[]): PrismaModel {
  const model: PrismaModel = { name, fields: [], attributes: [] };
  for (const { text, line } of lines) {
    if (text.startsWith('@@')) {
      model.attributes.push(...parseAttributes(text, line));
      continue;
    }
    const field = /^(\w+)\s+(\w+)(\[\])?(\?)?(?:\s+(.*))?$/.exec(text);
    if (!field) throw new SyntaxError(`schema.prisma:${line}: cannot read field "${text}"`);
    model.fields.push({
      name: field[1]!,
      type: field[2]!,
      list: field[3] !== undefined,
      optional: field[4] !== undefined,
      attributes: parseAttributes(field[5] ?? '', line),
    });
  }
  return model;
}

function parseEnum(name: string, lines: { text: string; line: number }[]): PrismaEnum {
  const result: PrismaEnum = { name, values: [], dbName: name };
  for (const { text, line } of lines) {
    if (text.startsWith('@@')) {
      for (const attribute of parseAttributes(text, line)) {
        if (attribute.name !== 'map') throw new SyntaxError(`schema.prisma:${line}: unsupported enum attribute @@${attribute.name}`);
        result.dbName = stringArg(attribute);
      }
      continue;
    }
    const value = /^(\w+)(?:\s+(.*))?$/.exec(text);
    if (!value) throw new SyntaxError(`schema.prisma:${line}: cannot read enum value "${text}"`);
    const map = parseAttributes(value[2] ?? '', line).find((attribute) => attribute.name === 'map');
    result.values.push({ name: value[1]!, dbName: map ? stringArg(map) : value[1]! });
  }
  return result;
}

/** Reads `@a @b(...) @@c(...)` into attributes; `@`/`@@` are dropped from the names. */
function parseAttributes(text: string, line: number): PrismaAttribute[] {
  const reader = new Reader(text, line);
  const attributes: PrismaAttribute[] = [];
  reader.skipSpace();
  while (!reader.done()) {
    reader.expect('@');
    if (reader.peek() === '@') reader.next();
    const name = reader.match(/[A-Za-z_][\w.]*/y);
    let args: AttributeArgs = { positional: [], named: {} };
    if (reader.peek() === '(') args = readArgs(reader);
    attributes.push({ name, args });
    reader.skipSpace();
  }
  return attributes;
}

function readArgs(reader: Reader): AttributeArgs {
  const args: AttributeArgs = { positional: [], named: {} };
  reader.expect('(');
  reader.skipSpace();
  while (reader.peek() !== ')') {
    const named = reader.tryMatch(/([A-Za-z_]\w*)\s*:/y);
    const value = readValue(reader);
    if (named) args.named[named.replace(/\s*:$/, '')] = value;
    else args.positional.push(value);
    reader.skipSpace();
    if (reader.peek() === ',') {
      reader.next();
      reader.skipSpace();
    } else if (reader.peek() !== ')') {
      reader.fail('expected "," or ")"');
    }
  }
  reader.expect(')');
  return args;
}

function readValue(reader: Reader): ArgValue {
  reader.skipSpace();
  const char = reader.peek();
  if (char === '"') return { kind: 'string', value: reader.readString() };
  if (char === '[') {
    reader.next();
    const items: ArgValue[] = [];
    reader.skipSpace();
    while (reader.peek() !== ']') {
      items.push(readValue(reader));
      reader.skipSpace();
      if (reader.peek() === ',') reader.next();
      reader.skipSpace();
    }
    reader.expect(']');
    return { kind: 'list', items };
  }
  const number = reader.tryMatch(/-?\d+(\.\d+)?/y);
  if (number) return { kind: 'number', value: number };
  const identifier = reader.match(/[A-Za-z_][\w.]*/y);
  if (reader.peek() === '(') return { kind: 'call', name: identifier, args: readArgs(reader) };
  return { kind: 'identifier', value: identifier };
}

class Reader {
  #pos = 0;
  constructor(
    private readonly text: string,
    private readonly line: number,
  ) {}

  done = () => this.#pos >= this.text.length;
  peek = () => this.text[this.#pos];
  next = () => this.text[this.#pos++];

  skipSpace(): void {
    while (!this.done() && /\s/.test(this.peek()!)) this.#pos++;
  }

  expect(char: string): void {
    if (this.peek() !== char) this.fail(`expected "${char}"`);
    this.#pos++;
  }

  tryMatch(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.#pos;
    const found = pattern.exec(this.text);
    if (!found) return undefined;
    this.#pos += found[0].length;
    return found[0];
  }

  match(pattern: RegExp): string {
    return this.tryMatch(pattern) ?? this.fail(`unexpected "${this.text.slice(this.#pos, this.#pos + 20)}"`);
  }

  readString(): string {
    this.expect('"');
    let value = '';
    while (this.peek() !== '"') {
      if (this.done()) this.fail('unterminated string');
      let char = this.next()!;
      if (char === '\\') {
        const escaped = this.next()!;
        char = escaped === 'n' ? '\n' : escaped === 't' ? '\t' : escaped;
      }
      value += char;
    }
    this.#pos++;
    return value;
  }

  fail(message: string): never {
    throw new SyntaxError(`schema.prisma:${this.line}: ${message} at column ${this.#pos + 1} of "${this.text}"`);
  }
}

/** Drops a `//` comment (doc comments `///` included) that is not inside a string. */
function stripComment(line: string): string {
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const char = line[i];
    if (char === '\\' && inString) i++;
    else if (char === '"') inString = !inString;
    else if (!inString && char === '/' && line[i + 1] === '/') return line.slice(0, i);
  }
  return line;
}

function stringArg(attribute: PrismaAttribute, name?: string): string {
  const value = name ? attribute.args.named[name] : (attribute.args.named.name ?? attribute.args.positional[0]);
  if (value?.kind !== 'string') throw new SyntaxError(`@${attribute.name} needs a string argument`);
  return value.value;
}

function fieldList(value: ArgValue | undefined, where: string): string[] {
  if (value?.kind !== 'list') throw new SyntaxError(`${where}: expected a list of fields`);
  return value.items.map((item) => {
    // `field(sort: Desc)` and `field(ops: ...)` name the field with options; the name is what matters here.
    if (item.kind === 'identifier') return item.value;
    if (item.kind === 'call') return item.name;
    throw new SyntaxError(`${where}: expected a field name`);
  });
}

const attribute = (attributes: PrismaAttribute[], name: string) => attributes.find((a) => a.name === name);

// ---------------------------------------------------------------------------------------------
// From the Prisma model to what Prisma Migrate would create in Postgres.

const REFERENTIAL_ACTIONS = new Set(['Cascade', 'Restrict', 'NoAction', 'SetNull', 'SetDefault']);

/** Postgres' own rendering (format_type) of each scalar, and of the native types (@db.*) allowed on it. */
function columnType(field: PrismaField, schema: PrismaSchema, where: string): string {
  const prismaEnum = schema.enums.find((e) => e.name === field.type);
  const native = field.attributes.find((a) => a.name.startsWith('db.'));
  let base: string;
  if (prismaEnum) {
    base = `enum:${prismaEnum.dbName}`;
  } else if (!SCALARS.has(field.type)) {
    throw new SyntaxError(`${where}: unknown type ${field.type}`);
  } else if (native) {
    base = nativeType(field.type, native, where);
  } else {
    base = {
      String: 'text',
      Int: 'integer',
      BigInt: 'bigint',
      Float: 'double precision',
      Decimal: 'numeric(65,30)',
      Boolean: 'boolean',
      DateTime: 'timestamp(3) without time zone',
      Json: 'jsonb',
      Bytes: 'bytea',
    }[field.type]!;
  }
  return field.list ? `${base}[]` : base;
}

function nativeType(scalar: string, native: PrismaAttribute, where: string): string {
  const args = native.args.positional.map((value) => (value.kind === 'number' ? value.value : '?'));
  const precision = (fallback: string) => `(${args[0] ?? fallback})`;
  const name = native.name.slice(3);
  const table: Record<string, Record<string, () => string>> = {
    String: {
      Text: () => 'text',
      VarChar: () => (args.length ? `character varying(${args[0]})` : 'character varying'),
      Char: () => `character${precision('1')}`,
      Uuid: () => 'uuid',
      Citext: () => 'citext',
      Inet: () => 'inet',
      Xml: () => 'xml',
    },
    Int: { Integer: () => 'integer', SmallInt: () => 'smallint', Oid: () => 'oid' },
    BigInt: { BigInt: () => 'bigint' },
    Float: { DoublePrecision: () => 'double precision', Real: () => 'real' },
    Decimal: { Decimal: () => (args.length ? `numeric(${args.join(',')})` : 'numeric'), Money: () => 'money' },
    Boolean: { Boolean: () => 'boolean' },
    DateTime: {
      Timestamptz: () => `timestamp${precision('6')} with time zone`,
      Timestamp: () => `timestamp${precision('6')} without time zone`,
      Timetz: () => `time${precision('6')} with time zone`,
      Time: () => `time${precision('6')} without time zone`,
      Date: () => 'date',
    },
    Json: { Json: () => 'json', JsonB: () => 'jsonb' },
    Bytes: { ByteA: () => 'bytea' },
  };
  const render = table[scalar]?.[name];
  if (!render) throw new SyntaxError(`${where}: @${native.name} on ${scalar} is not supported by the drift test`);
  return render();
}

/**
 * The default as the drift test compares it (see `normalizeDefault` in pg-catalog.ts), or null
 * where Prisma puts no default in the database (none given; uuid(), cuid() and friends are made
 * by the client).
 */
function columnDefault(field: PrismaField, schema: PrismaSchema, where: string): string | null {
  const value = attribute(field.attributes, 'default')?.args.positional[0];
  if (!value) return null;
  switch (value.kind) {
    case 'string':
    case 'number':
      return value.value;
    case 'identifier': {
      if (value.value === 'true' || value.value === 'false') return value.value;
      const prismaEnum = schema.enums.find((e) => e.name === field.type);
      const enumValue = prismaEnum?.values.find((v) => v.name === value.value);
      if (!enumValue) throw new SyntaxError(`${where}: @default(${value.value}) is not a value of ${field.type}`);
      return enumValue.dbName;
    }
    case 'list': {
      const items = value.items.map((item) => ('value' in item ? String(item.value) : '?'));
      return `{${items.join(',')}}`;
    }
    case 'call':
      if (value.name === 'now') return 'now()';
      if (value.name === 'autoincrement') return 'autoincrement()';
      if (value.name === 'dbgenerated') {
        const expression = value.args.positional[0];
        return expression?.kind === 'string' ? `dbgenerated(${expression.value})` : null;
      }
      if (['uuid', 'cuid', 'nanoid', 'ulid'].includes(value.name)) return null;
      throw new SyntaxError(`${where}: @default(${value.name}()) is not supported by the drift test`);
  }
}

/** Postgres silently truncates identifiers to 63 bytes, and so do Prisma's default names. */
const identifier = (name: string) => name.slice(0, 63);

/** What `prisma migrate` would create for this schema, in the catalog's terms. */
export function expectedDatabaseShape(schema: PrismaSchema): DatabaseShape {
  const modelsByName = new Map(schema.models.map((model) => [model.name, model]));
  const tableName = (model: PrismaModel) => {
    const map = attribute(model.attributes, 'map');
    return map ? stringArg(map) : model.name;
  };
  const columnName = (model: PrismaModel, fieldName: string) => {
    const field = model.fields.find((f) => f.name === fieldName);
    if (!field) throw new SyntaxError(`model ${model.name}: no field ${fieldName}`);
    const map = attribute(field.attributes, 'map');
    return map ? stringArg(map) : field.name;
  };
  const isRelation = (field: PrismaField) => modelsByName.has(field.type);

  const tables: TableShape[] = schema.models.map((model) => {
    const table = tableName(model);
    const columns: ColumnShape[] = [];
    const uniques: IndexShape[] = [];
    const indexes: IndexShape[] = [];
    const foreignKeys: ForeignKeyShape[] = [];
    let primaryKey: IndexShape | null = null;

    for (const field of model.fields) {
      const where = `model ${model.name}, field ${field.name}`;
      if (isRelation(field)) {
        const relation = attribute(field.attributes, 'relation');
        if (!relation?.args.named.fields) continue; // the side without the foreign key
        const target = modelsByName.get(field.type)!;
        const fields = fieldList(relation.args.named.fields, where);
        const references = fieldList(relation.args.named.references, where);
        const action = (name: 'onDelete' | 'onUpdate', fallback: string) => {
          const value = relation.args.named[name];
          if (value === undefined) return fallback;
          if (value.kind !== 'identifier' || !REFERENTIAL_ACTIONS.has(value.value)) throw new SyntaxError(`${where}: bad ${name}`);
          return value.value;
        };
        const required = fields.every((name) => !model.fields.find((f) => f.name === name)?.optional);
        const columnsOfKey = fields.map((name) => columnName(model, name));
        const map = relation.args.named.map;
        foreignKeys.push({
          name: identifier(map?.kind === 'string' ? map.value : `${table}_${columnsOfKey.join('_')}_fkey`),
          columns: columnsOfKey,
          referencedTable: tableName(target),
          referencedColumns: references.map((name) => columnName(target, name)),
          // Prisma's defaults: Restrict for a required relation, SetNull for an optional one; updates cascade.
          onDelete: action('onDelete', required ? 'Restrict' : 'SetNull'),
          onUpdate: action('onUpdate', 'Cascade'),
        });
        continue;
      }
      const column = columnName(model, field.name);
      columns.push({
        name: column,
        type: columnType(field, schema, where),
        nullable: field.optional,
        default: columnDefault(field, schema, where),
      });
      const id = attribute(field.attributes, 'id');
      if (id) primaryKey = { name: identifier(mapArg(id) ?? `${table}_pkey`), columns: [column], method: 'btree' };
      const unique = attribute(field.attributes, 'unique');
      if (unique) uniques.push({ name: identifier(mapArg(unique) ?? `${table}_${column}_key`), columns: [column], method: 'btree' });
    }

    for (const block of model.attributes) {
      const where = `model ${model.name}, @@${block.name}`;
      if (block.name === 'map') continue;
      if (block.name !== 'id' && block.name !== 'unique' && block.name !== 'index') {
        throw new SyntaxError(`${where} is not supported by the drift test`);
      }
      const columnsOfIndex = fieldList(block.args.named.fields ?? block.args.positional[0], where).map((name) => columnName(model, name));
      const suffix = { id: 'pkey', unique: 'key', index: 'idx' }[block.name];
      const defaultName = block.name === 'id' ? `${table}_pkey` : `${table}_${columnsOfIndex.join('_')}_${suffix}`;
      const type = block.args.named.type;
      const shape: IndexShape = {
        name: identifier(mapArg(block) ?? defaultName),
        columns: columnsOfIndex,
        method: type?.kind === 'identifier' ? type.value.toLowerCase() : 'btree',
      };
      if (block.name === 'id') primaryKey = shape;
      else if (block.name === 'unique') uniques.push(shape);
      else indexes.push(shape);
    }
    return { name: table, columns, primaryKey, uniques, indexes, foreignKeys };
  });

  return {
    tables,
    enums: schema.enums.map((e) => ({ name: e.dbName, labels: e.values.map((v) => v.dbName) })),
  };
}

function mapArg(attribute: PrismaAttribute): string | undefined {
  const map = attribute.args.named.map;
  return map?.kind === 'string' ? map.value : undefined;
}
