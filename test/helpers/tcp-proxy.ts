import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between the service and Postgres that a test can turn into each network fault:
 * - `forward`: relays bytes both ways (the healthy network);
 * - `refuse`: the listening socket is closed, so connects are refused (ECONNREFUSED) and open
 *   connections are reset;
 * - `reset`: connects are accepted and reset at once, open connections are reset (ECONNRESET);
 * - `blackhole`: nothing is forwarded any more and nothing is closed, as a partitioned network or
 *   a dead peer behind a NAT looks (new connects are accepted and then hang).
 *
 * `blackhole(match)` may black-hole only the connections whose Postgres startup packet contains
 * `match` (e.g. an application_name), leaving the others working: a half-open LISTEN connection.
 */
export class TcpProxy {
  #server: Server | undefined;
  readonly #pairs = new Set<Pair>();
  #mode: 'forward' | 'refuse' | 'reset' | 'blackhole' = 'forward';
  #blackholeMatch: string | undefined;
  #port = 0;

  private constructor(private readonly target: { host: string; port: number }) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await proxy.#listen();
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  /** The database URL with its host and port replaced by the proxy's. */
  urlFor(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.#port);
    return url.toString();
  }

  get connections(): number {
    return this.#pairs.size;
  }

  async #listen(): Promise<void> {
    const server = createServer((client) => this.#accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  #accept(client: Socket): void {
    client.on('error', () => client.destroy());
    if (this.#mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, startup: '', held: this.#mode === 'blackhole' && this.#blackholeMatch === undefined };
    this.#pairs.add(pair);
    client.on('close', () => {
      this.#pairs.delete(pair);
      pair.upstream?.destroy();
    });
    const upstream = createConnection(this.target);
    pair.upstream = upstream;
    upstream.on('error', () => upstream.destroy());
    upstream.on('close', () => {
      this.#pairs.delete(pair);
      if (!pair.held) client.destroy();
    });
    client.on('data', (chunk) => {
      if (pair.startup.length < 2048) pair.startup += chunk.toString('latin1');
      if (this.#mode === 'blackhole' && this.#blackholeMatch !== undefined && pair.startup.includes(this.#blackholeMatch)) pair.held = true;
      if (!pair.held) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.held) client.write(chunk);
    });
  }

  /** Connects are refused; open connections are reset. */
  async refuse(): Promise<void> {
    this.#mode = 'refuse';
    const server = this.#server;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    this.#resetAll();
    await closed;
  }

  /** Connects are accepted and reset; open connections are reset. */
  async reset(): Promise<void> {
    await this.#ensureListening();
    this.#mode = 'reset';
    this.#resetAll();
  }

  /**
   * Stops forwarding without closing anything. With `match`, only connections whose startup packet
   * contains it (open ones and new ones) are held; the others keep working.
   */
  async blackhole(match?: string): Promise<void> {
    await this.#ensureListening();
    this.#mode = 'blackhole';
    this.#blackholeMatch = match;
    for (const pair of this.#pairs) {
      if (match === undefined || pair.startup.includes(match)) pair.held = true;
    }
  }

  /** Back to a working network. Held connections stay dead (their bytes were lost), as after a real partition. */
  async restore(): Promise<void> {
    await this.#ensureListening();
    this.#mode = 'forward';
    this.#blackholeMatch = undefined;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.#mode = 'refuse';
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.#pairs.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #ensureListening(): Promise<void> {
    if (!this.#server) await this.#listen();
  }

  #resetAll(): void {
    for (const pair of this.#pairs) {
      pair.client.resetAndDestroy();
      pair.upstream?.destroy();
    }
    this.#pairs.clear();
  }
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  /** The first bytes the client sent: Postgres' startup packet, with user, database and application_name. */
  startup: string;
  held: boolean;
}
