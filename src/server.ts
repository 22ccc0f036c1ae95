import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { buildApp } from './app.js';
import { ensureRootToken } from './auth/root-token.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { hashingOptionsFrom, SecretHasher } from './crypto/hashing.js';
import { checkMasterKey, MasterKeyMismatchError } from './crypto/master-key-check.js';
import { loggerOptions } from './logger.js';
import { type MetricsServer, startMetricsServer } from './metrics.js';
import { openStore } from './store/index.js';

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * With the embedded store and no LATCHKEY_MASTER_KEY, a key is generated into the data directory
 * (mode 0600). It protects signing and CA keys, so it must be backed up with the data.
 */
async function resolveMasterKey(config: Config, logger: Logger): Promise<Buffer> {
  if (config.LATCHKEY_MASTER_KEY) return config.LATCHKEY_MASTER_KEY;
  const dir = resolve(config.LATCHKEY_DATA_DIR);
  const file = join(dir, 'master.key');
  try {
    const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold 32 base64-encoded bytes`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  await writeFile(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
  logger.warn({ file }, 'LATCHKEY_MASTER_KEY is not set: generated a master key in the data directory; back it up with the data, or set LATCHKEY_MASTER_KEY');
  return key;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`latchkey: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = pino(loggerOptions(config.LOG_LEVEL));
  const masterKey = await resolveMasterKey(config, logger);
  const store = await openStore({ databaseUrl: config.DATABASE_URL, dataDir: config.LATCHKEY_DATA_DIR, logger });
  try {
    await checkMasterKey(store.prisma, masterKey);
  } catch (error) {
    if (error instanceof MasterKeyMismatchError) {
      await store.close().catch(() => undefined);
      process.stderr.write(`latchkey: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }

  const rootToken = await ensureRootToken(
    store.prisma,
    new SecretHasher(hashingOptionsFrom(config, { concurrency: 1, queueLimit: 1 })),
    config.LATCHKEY_ROOT_TOKEN,
  );
  if (rootToken) {
    // Printed once, outside the logger, so it never reaches a log pipeline's storage by accident.
    process.stdout.write(
      `\nLatchkey generated a root token. It is shown only now and stored only as a hash:\n\n    ${rootToken}\n\n` +
        `Use it as "Authorization: Bearer <token>". To choose your own, set LATCHKEY_ROOT_TOKEN.\n\n`,
    );
  }

  const app = await buildApp({ config, store, masterKey, logger });
  let closing = false;
  let metricsServer: MetricsServer | undefined;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const force = setTimeout(() => {
      logger.error('in-flight requests did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    await app.close();
    await metricsServer?.close();
    await store.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));

  await app.listen({ port: config.PORT, host: config.HOST });
  if (app.metrics && config.LATCHKEY_METRICS_PORT !== undefined) {
    metricsServer = await startMetricsServer(app.metrics, config.LATCHKEY_METRICS_PORT, config.HOST);
    logger.info({ port: metricsServer.port }, 'metrics listening on GET /metrics');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`latchkey: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
