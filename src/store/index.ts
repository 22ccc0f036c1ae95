import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { Logger } from 'pino';
import { PrismaClient } from '../generated/prisma/client.js';
import { INVALIDATION_CHANNEL, InvalidationBus } from './invalidation.js';
import { migrate } from './migrator.js';
import type { SqlSession } from './sql.js';

export type StoreKind = 'postgres' | 'pglite';
export type Db = PrismaClient;
/** The client handed to a `$transaction(async (tx) => ...)` callback. */
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0] & {};

export interface Store {
  readonly kind: StoreKind;
  readonly prisma: PrismaClient;
  readonly bus: InvalidationBus;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  databaseUrl?: string;
  /** Directory for the embedded database; `undefined` keeps it in memory (tests). */
  dataDir?: string;
  logger: Logger;
}

export async function openStore(options: StoreOptions): Promise<Store> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options.logger) : openPglite(options.dataDir, options.logger);
}

async function openPostgres(connectionString: string, logger: Logger): Promise<Store> {
  const pool = new pg.Pool({ connectionString, max: 10, connectionTimeoutMillis: 2000, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (error) => logger.warn({ err: error }, 'postgres pool client error'));
  const bus = new InvalidationBus();

  const client = await pool.connect();
  try {
    const applied = await migrate(pgSession(client));
    if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');
  } finally {
    client.release();
  }

  const listener = new PostgresListener(connectionString, bus, logger);
  await listener.start();
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    kind: 'postgres',
    prisma,
    bus,
    ping: async () => {
      await pool.query('SELECT 1');
    },
    close: async () => {
      await listener.stop();
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

function pgSession(client: pg.ClientBase): SqlSession {
  return {
    exec: async (sql) => {
      await client.query(sql);
    },
    query: async <T>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as T[],
  };
}

/** A dedicated connection that LISTENs for invalidations and reconnects when it is lost. */
class PostgresListener {
  #client: pg.Client | undefined;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;
  #connectedBefore = false;

  constructor(
    private readonly connectionString: string,
    private readonly bus: InvalidationBus,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: 2000 });
    client.on('notification', (message) => {
      if (message.channel === INVALIDATION_CHANNEL && message.payload) this.bus.deliverPayload(message.payload);
    });
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'invalidation listener lost its connection; reconnecting');
      this.#reconnectSoon();
    });
    client.on('end', () => this.#reconnectSoon());
    await client.connect();
    await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
    // After a reconnect, notifications sent while we were away are lost: forget every cached result.
    if (this.#connectedBefore) this.bus.deliver('all');
    this.#connectedBefore = true;
    this.#client = client;
  }

  #reconnectSoon(): void {
    if (this.#stopped || this.#retry) return;
    this.bus.deliver('all');
    this.#client?.removeAllListeners();
    this.#client = undefined;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.start().catch(() => this.#reconnectSoon());
    }, 500);
    this.#retry.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    client?.removeAllListeners();
    await client?.end().catch(() => undefined);
  }
}

async function openPglite(dataDir: string | undefined, logger: Logger): Promise<Store> {
  // Loaded only here: a Postgres deployment never pays for the embedded database's code.
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import('@electric-sql/pglite'), import('pglite-prisma-adapter')]);
  let path: string | undefined;
  if (dataDir !== undefined) {
    path = join(resolve(dataDir), 'pglite');
    await mkdir(path, { recursive: true, mode: 0o700 });
  }
  const db = await PGlite.create(path);
  const session: SqlSession = {
    exec: async (sql) => {
      await db.exec(sql);
    },
    query: async <T>(sql: string, params?: unknown[]) => (await db.query<T>(sql, params)).rows,
  };
  const applied = await migrate(session);
  if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');

  const bus = new InvalidationBus();
  const unlisten = await db.listen(INVALIDATION_CHANNEL, (payload) => bus.deliverPayload(payload));
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  const maintenance = await analyzePeriodically(session, logger);
  return {
    kind: 'pglite',
    prisma,
    bus,
    ping: async () => {
      await db.query('SELECT 1');
    },
    close: async () => {
      await maintenance.stop();
      await unlisten();
      await prisma.$disconnect();
      await db.close();
    },
  };
}

const ANALYZE_EVERY_MS = 5 * 60_000;

/**
 * The embedded database has no autovacuum (PGlite is single-user Postgres), so without this its
 * tables are never analyzed and the planner guesses: a key list page in an organization of
 * 100,000 keys took 9 ms instead of 1 ms. ANALYZE at open and every five minutes stands in for it;
 * it samples a fixed number of rows, about 100 ms at 100,000 keys.
 */
async function analyzePeriodically(session: SqlSession, logger: Logger): Promise<{ stop(): Promise<void> }> {
  let running: Promise<void> = Promise.resolve();
  const analyze = () => {
    running = session.exec('ANALYZE').catch((error: unknown) => logger.warn({ err: error }, 'embedded store: ANALYZE failed'));
    return running;
  };
  await analyze();
  const timer = setInterval(analyze, ANALYZE_EVERY_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
