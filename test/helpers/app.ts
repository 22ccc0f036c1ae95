import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { type AppOptions, buildApp } from '../../src/app.js';
import { ensureRootToken } from '../../src/auth/root-token.js';
import { type Config, loadConfig } from '../../src/config.js';
import { hashingOptionsFrom, SecretHasher } from '../../src/crypto/hashing.js';
import { loggerOptions } from '../../src/logger.js';
import { openStore, type Store } from '../../src/store/index.js';

/** Postgres when the test run has DATABASE_URL (CI's second pass), else a fresh in-memory PGlite. */
export const TEST_DATABASE_URL = process.env.DATABASE_URL || undefined;

// One token for every test app: apps sharing a Postgres database must agree on the stored hash.
const rootToken = 'test-root-token-0123456789abcdef0123456789abcdef';

export interface TestApp {
  app: FastifyInstance;
  store: Store;
  config: Config;
  rootToken: string;
  /** Every log line the app wrote, as raw JSON text. */
  logs: string[];
  /** Authorization header value for the root token. */
  root: { authorization: string };
  inject(options: InjectOptions): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  /** Reuse a store (two apps on one database); the caller closes it. */
  store?: Store;
  /** Test seams of the remote key-filter fetcher (resolver, trusted CAs, connect guard). */
  keyFilterSeams?: AppOptions['keyFilterSeams'];
}

/**
 * The app of one `describe`: started in its `before`, closed in its `after`. The returned object
 * stands for the running app inside tests and hooks (options are read when it starts, so they may
 * use what an earlier hook set up).
 */
export function suiteApp(options?: TestAppOptions | (() => TestAppOptions)): TestApp {
  let app: TestApp | undefined;
  before(async () => {
    app = await startTestApp(typeof options === 'function' ? options() : options);
  });
  after(() => app?.close());
  return new Proxy({} as TestApp, {
    get(_target, property) {
      if (!app) throw new Error('the suite app runs only inside tests and hooks of its describe');
      const value: unknown = Reflect.get(app, property);
      return typeof value === 'function' ? value.bind(app) : value;
    },
  });
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = loadConfig({
    ...(TEST_DATABASE_URL ? { DATABASE_URL: TEST_DATABASE_URL } : {}),
    LATCHKEY_ROOT_TOKEN: rootToken,
    // Fixed, like the root token: apps sharing a database must read each other's sealed keys.
    LATCHKEY_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
    LATCHKEY_AUTH_FAILURES_PER_MINUTE: '100000',
    LOG_LEVEL: 'info',
    ...options.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const { transport: _pretty, ...options_ } = loggerOptions(config.LOG_LEVEL);
  const logger = pino(options_, sink);
  const store = options.store ?? (await openStore({ databaseUrl: config.DATABASE_URL, logger }));
  await ensureRootToken(store.prisma, new SecretHasher(hashingOptionsFrom(config, { concurrency: 1, queueLimit: 1 })), rootToken);
  const app = await buildApp({
    config,
    store,
    masterKey: config.LATCHKEY_MASTER_KEY!,
    logger,
    ...(options.keyFilterSeams ? { keyFilterSeams: options.keyFilterSeams } : {}),
  });
  await app.ready();
  return {
    app,
    store,
    config,
    rootToken,
    logs,
    root: { authorization: `Bearer ${rootToken}` },
    inject: (request) => app.inject(request),
    close: async () => {
      await app.close();
      if (!options.store) await store.close();
    },
  };
}

/**
 * Two replicas of the service on this run's store. On Postgres: two app instances, each with its
 * own pool and LISTEN connection on one database. On the embedded store (one process by nature)
 * the second app shares the first's store and hears revocations through the same NOTIFY path.
 * Close the second before the first.
 */
export async function startReplicas(): Promise<[TestApp, TestApp]> {
  const first = await startTestApp();
  const second = TEST_DATABASE_URL ? await startTestApp() : await startTestApp({ store: first.store });
  return [first, second];
}

/** Milliseconds until `done()` first holds, asked every 10 ms; Infinity if it does not within 5 s. */
export async function msUntil(done: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < 5000) {
    if (await done()) return Date.now() - start;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Infinity;
}

/** What the replicas of `startReplicas` are, for test names. */
export const REPLICAS = TEST_DATABASE_URL ? 'Postgres' : 'embedded store';

let counter = 0;
/** A name no other test (or earlier run on the same database) has used. */
export function uniqueName(prefix = 't'): string {
  counter++;
  return `${prefix}-${Date.now().toString(36)}-${counter}-${randomBytes(3).toString('hex')}`;
}
