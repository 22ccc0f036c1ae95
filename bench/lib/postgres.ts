import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A database created for one run on the server of DATABASE_URL, dropped afterwards. */
export class ScratchDatabase {
  private constructor(
    private readonly adminUrl: string,
    readonly name: string,
  ) {}

  static async create(adminUrl: string, prefix: string): Promise<ScratchDatabase> {
    const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
    await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${name}`));
    return new ScratchDatabase(adminUrl, name);
  }

  get url(): string {
    const url = new URL(this.adminUrl);
    url.pathname = `/${this.name}`;
    return url.toString();
  }

  async drop(): Promise<void> {
    await withClient(this.adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${this.name} WITH (FORCE)`));
  }
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A default Postgres re-analyzes a table once a tenth of it has changed. A server with autovacuum
 * off (this machine's) leaves a bulk-seeded table without statistics: the planner then guesses a
 * handful of rows per organization and sorts the whole organization for every page.
 */
export async function autovacuumIsOn(url: string): Promise<boolean> {
  return withClient(url, async (client) => (await client.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]?.autovacuum === 'on');
}

/** What autovacuum would have done by now. */
export async function analyze(url: string): Promise<void> {
  await withClient(url, (client) => client.query('ANALYZE'));
}

/** "PostgreSQL 16.4" — for the report. */
export async function serverVersion(url: string): Promise<string> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return `PostgreSQL ${rows[0]?.server_version ?? '?'}`;
  });
}
