import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import type { Logger } from 'pino';
import { PrismaClient } from '../generated/prisma/client.js';
import { type DataDirLock, lockDataDir } from './data-dir-lock.js';
import { INVALIDATION_CHANNEL, InvalidationBus } from './invalidation.js';
import { migrate } from './migrator.js';
import type { SqlSession } from './sql.js';

type StoreKind = 'postgres' | 'pglite';
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
  /** Fault bounds; the defaults are the documented ones (README "Failure behaviour"). Tests shorten them. */
  limits?: Partial<StoreLimits>;
}

/** How long the service waits on Postgres, and how it notices and recovers from a lost connection. */
export interface StoreLimits {
  /** Opening a connection (TCP + startup + authentication). */
  connectTimeoutMs: number;
  /** Any one query, client side (a silent network) and server side (statement_timeout). */
  queryTimeoutMs: number;
  /** The LISTEN connection sends itself a NOTIFY this often... */
  heartbeatIntervalMs: number;
  /** ...which must arrive within this, else the connection is dropped and the caches stop serving. */
  heartbeatTimeoutMs: number;
  /** Reconnect backoff of the LISTEN connection: first delay and cap (jittered). */
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

export const DEFAULT_STORE_LIMITS: Readonly<StoreLimits> = Object.freeze({
  connectTimeoutMs: 2_000,
  queryTimeoutMs: 10_000,
  heartbeatIntervalMs: 5_000,
  heartbeatTimeoutMs: 5_000,
  reconnectMinMs: 250,
  reconnectMaxMs: 5_000,
});

/** application_name of the LISTEN connection (visible in pg_stat_activity). */
export const LISTENER_APPLICATION_NAME = 'latchkey-listener';

export async function openStore(options: StoreOptions): Promise<Store> {
  const limits = { ...DEFAULT_STORE_LIMITS, ...options.limits };
  return options.databaseUrl ? openPostgres(options.databaseUrl, options.logger, limits) : openPglite(options.dataDir, options.logger);
}

const ignore = () => undefined;

/** Never let a connection's 'error' event go unhandled: an unhandled one ends the process. */
function guardClient(client: pg.Client, logger: Logger, what: string): void {
  client.on('error', (error) => logger.warn({ err: error }, `${what}: connection error`));
}

/**
 * A pooled connection that is closed when one of its queries times out client side: the
 * protocol is then out of step (the answer may still come), so the connection cannot be reused.
 * Closing it makes the pool discard it on release. Errors never go unhandled (see guardClient).
 */
function pooledClientClass(logger: Logger): typeof pg.Client {
  return class PooledClient extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super(config);
      guardClient(this, logger, 'postgres pool client');
    }

    override query(...args: unknown[]): never {
      const result = (super.query as (...a: unknown[]) => unknown)(...args);
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).catch((error: unknown) => {
          if (error instanceof Error && error.message === 'Query read timeout') destroyConnection(this);
        });
      }
      return result as never;
    }
  } as unknown as typeof pg.Client;
}

function destroyConnection(client: pg.Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

async function openPostgres(connectionString: string, logger: Logger, limits: StoreLimits): Promise<Store> {
  const pool = new pg.Pool({
    connectionString,
    max: 10,
    connectionTimeoutMillis: limits.connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    query_timeout: limits.queryTimeoutMs,
    statement_timeout: limits.queryTimeoutMs,
    idle_in_transaction_session_timeout: Math.max(limits.queryTimeoutMs * 3, 30_000),
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'latchkey',
    Client: pooledClientClass(logger),
  });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (error) => logger.warn({ err: error }, 'postgres pool client error'));
  const bus = new InvalidationBus();

  // Migrations run on their own connection, without the per-query bounds: a migration on a large
  // table may rightly take longer than any request's query.
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: limits.connectTimeoutMs, application_name: 'latchkey-migrate' });
  guardClient(client, logger, 'postgres migration client');
  await client.connect();
  try {
    const applied = await migrate(pgSession(client));
    if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');
  } finally {
    await client.end().catch(ignore);
  }

  const listener = new PostgresListener(connectionString, bus, logger, limits);
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

/**
 * A dedicated connection that LISTENs for invalidations, proves every few seconds that it still
 * hears them (a NOTIFY to itself that must come back in time: TCP keepalive alone takes minutes to
 * notice a half-open connection), and reconnects with jittered backoff when it is lost. The bus is
 * healthy only while this proof holds; each loss and each reconnect drops every cache.
 */
class PostgresListener {
  #client: pg.Client | undefined;
  #stopped = false;
  #retry: NodeJS.Timeout | undefined;
  #beat: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;
  #attempt = 0;
  #expected: string | undefined;
  readonly #heartbeatChannel = `latchkey_heartbeat_${randomBytes(8).toString('hex')}`;

  constructor(
    private readonly connectionString: string,
    private readonly bus: InvalidationBus,
    private readonly logger: Logger,
    private readonly limits: StoreLimits,
  ) {}

  /** The first connection: failing here fails the start. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.connectionString,
      connectionTimeoutMillis: this.limits.connectTimeoutMs,
      query_timeout: this.limits.heartbeatTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 1_000,
      application_name: LISTENER_APPLICATION_NAME,
    });
    client.on('notification', (message) => {
      if (client !== this.#client) return;
      if (message.channel === INVALIDATION_CHANNEL && message.payload) this.bus.deliverPayload(message.payload);
      else if (message.channel === this.#heartbeatChannel && message.payload === this.#expected) this.#heard();
    });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, undefined));
    try {
      await client.connect();
      await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
      await client.query(`LISTEN ${this.#heartbeatChannel}`);
    } catch (error) {
      this.#release(client);
      throw error;
    }
    if (this.#stopped) {
      this.#release(client);
      return;
    }
    this.#client = client;
    this.#attempt = 0;
    // Healthy again: setHealthy drops every cache, as notifications sent meanwhile were lost.
    this.bus.setHealthy(true);
    this.#beat = setInterval(() => this.#sendHeartbeat(client), this.limits.heartbeatIntervalMs);
    this.#beat.unref();
  }

  #sendHeartbeat(client: pg.Client): void {
    if (client !== this.#client || this.#deadline) return;
    const nonce = randomBytes(8).toString('hex');
    this.#expected = nonce;
    this.#deadline = setTimeout(
      () => this.#lost(client, new Error(`heartbeat did not come back within ${this.limits.heartbeatTimeoutMs} ms`)),
      this.limits.heartbeatTimeoutMs,
    );
    this.#deadline.unref();
    client.query('SELECT pg_notify($1, $2)', [this.#heartbeatChannel, nonce]).catch(ignore);
  }

  #heard(): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    this.#expected = undefined;
    this.bus.setHealthy(true);
  }

  #lost(client: pg.Client, error: Error | undefined): void {
    if (client !== this.#client) return;
    this.logger.warn({ err: error }, 'invalidation listener lost its connection; caches are off until it is back; reconnecting');
    this.#client = undefined;
    this.#clearTimers();
    this.#release(client);
    this.bus.setHealthy(false);
    this.#reconnectSoon();
  }

  #reconnectSoon(): void {
    if (this.#stopped || this.#retry) return;
    const ceiling = Math.min(this.limits.reconnectMaxMs, this.limits.reconnectMinMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    // Full jitter in the upper half: replicas that lost the database together do not return in step.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#connect().catch((error: unknown) => {
        this.logger.warn({ err: error }, 'invalidation listener could not reconnect; retrying');
        this.#reconnectSoon();
      });
    }, delay);
    this.#retry.unref();
  }

  /** Lets a connection go: its later errors are ignored, never unhandled, and its socket is closed. */
  #release(client: pg.Client): void {
    client.removeAllListeners();
    client.on('error', ignore);
    client.end().catch(ignore);
    // end() waits for the server to close; a silent network never does.
    setTimeout(() => destroyConnection(client), 1_000).unref();
  }

  #clearTimers(): void {
    clearInterval(this.#beat);
    clearTimeout(this.#deadline);
    this.#beat = undefined;
    this.#deadline = undefined;
    this.#expected = undefined;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#clearTimers();
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    client.removeAllListeners();
    client.on('error', ignore);
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref());
    await Promise.race([client.end().catch(ignore), timeout]);
    destroyConnection(client);
  }
}

async function openPglite(dataDir: string | undefined, logger: Logger): Promise<Store> {
  // Loaded only here: a Postgres deployment never pays for the embedded database's code.
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import('@electric-sql/pglite'), import('pglite-prisma-adapter')]);
  let path: string | undefined;
  let lock: DataDirLock | undefined;
  if (dataDir !== undefined) {
    path = join(resolve(dataDir), 'pglite');
    await mkdir(path, { recursive: true, mode: 0o700 });
    // Before opening: a second process on the same directory would corrupt it.
    lock = lockDataDir(resolve(dataDir));
  }
  const db = await PGlite.create(path).catch((error: unknown) => {
    lock?.release();
    throw error;
  });
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
      lock?.release();
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
