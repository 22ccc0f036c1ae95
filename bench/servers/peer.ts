/**
 * The peer: better-auth's API key plugin verifying keys behind a minimal Fastify route, set up as
 * its documentation says (betterAuth + apiKey plugin, schema from better-auth's own migrator, keys
 * created server-side with a userId, verified with auth.api.verifyApiKey). The only change from
 * the defaults is the plugin's per-key rate limit (10 requests a day), disabled so that the
 * comparison measures verification and not 429s.
 *
 * Environment: PORT; PEER_DATABASE_URL (Postgres) or PEER_SQLITE_PATH (SQLite through libsql,
 * better-sqlite3's API without a native build step).
 */
import { apiKey } from '@better-auth/api-key';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import Fastify from 'fastify';
import { SqliteDialect } from 'kysely';
import Database from 'libsql';
import pg from 'pg';

const port = Number(process.env.PORT ?? 0);
const databaseUrl = process.env.PEER_DATABASE_URL;
const sqlitePath = process.env.PEER_SQLITE_PATH;
if (!databaseUrl && !sqlitePath) throw new Error('set PEER_DATABASE_URL or PEER_SQLITE_PATH');

const MAX_SEED = 20_000;
const SEED_CONCURRENCY = 16;

const pool = databaseUrl ? new pg.Pool({ connectionString: databaseUrl }) : undefined;
const sqlite = sqlitePath ? new Database(sqlitePath) : undefined;
sqlite?.exec('PRAGMA journal_mode = WAL');
// libsql has better-sqlite3's API, but better-auth's auto-detection mistakes its `db` property for a
// Kysely instance, so it is handed over as the documented Kysely dialect instead.
const database = pool ?? { dialect: new SqliteDialect({ database: sqlite! as never }), type: 'sqlite' as const };

const auth = betterAuth({
  database,
  secret: process.env.BETTER_AUTH_SECRET ?? 'bench-only-secret-bench-only-secret-0123456789',
  baseURL: `http://127.0.0.1:${port}`,
  emailAndPassword: { enabled: true },
  telemetry: { enabled: false },
  logger: { disabled: true },
  plugins: [apiKey({ rateLimit: { enabled: false } })],
});

const { runMigrations } = await getMigrations(auth.options);
await runMigrations();

const app = Fastify({ logger: false });

app.get('/healthz', async () => ({ status: 'ok' }));

// Seeding only: one user owning `count` keys, created the way the docs show for server code.
app.post<{ Body: { count: number } }>('/seed', async (request) => {
  const count = Math.min(Math.max(1, Number(request.body.count) || 1), MAX_SEED);
  const email = `bench-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
  const { user } = await auth.api.signUpEmail({ body: { email, password: 'bench-password-123', name: 'bench' } });
  const keys: string[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const created = await auth.api.createApiKey({ body: { userId: user.id, name: `bench-${index}` } });
      keys[index] = created.key;
    }
  };
  await Promise.all(Array.from({ length: SEED_CONCURRENCY }, worker));
  return { keys };
});

app.post<{ Body: { key: string } }>('/verify', async (request) => {
  const result = await auth.api.verifyApiKey({ body: { key: request.body.key } });
  if (!result.valid || !result.key) return { valid: false, code: result.error?.code ?? 'INVALID' };
  return { valid: true, code: 'VALID', key: { id: result.key.id, user_id: result.key.referenceId } };
});

const close = async () => {
  await app.close();
  await pool?.end();
  sqlite?.close();
  process.exit(0);
};
process.once('SIGTERM', () => void close());
process.once('SIGINT', () => void close());

await app.listen({ port, host: '127.0.0.1' });
