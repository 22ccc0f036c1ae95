import assert from 'node:assert/strict';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { startTestApp, TEST_DATABASE_URL, type TestApp } from '../helpers/app.js';

/** A TCP relay in front of Postgres that the test can cut and restore, as a network outage would. */
class Relay {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  constructor(
    private readonly target: { host: string; port: number },
    readonly port: number,
  ) {}

  async open(): Promise<void> {
    this.#server = createServer((client) => {
      const upstream = createConnection(this.target);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('close', () => this.#sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.#server!.listen(this.port, '127.0.0.1', resolve));
  }

  async cut(): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('store outage', { skip: TEST_DATABASE_URL ? false : 'needs DATABASE_URL: the embedded store cannot be disconnected' }, () => {
  let t: TestApp | undefined;
  let relay: Relay | undefined;
  after(async () => {
    await t?.close();
    await relay?.cut();
  });

  test('with the database unreachable the API answers 503 problem+json quickly, then recovers by itself', async () => {
    const url = new URL(TEST_DATABASE_URL!);
    relay = new Relay({ host: url.hostname, port: Number(url.port || 5432) }, await freePort());
    await relay.open();
    url.port = String(relay.port);
    t = await startTestApp({ env: { DATABASE_URL: url.toString() } });
    assert.equal((await t.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);

    await relay.cut();
    const started = Date.now();
    const ready = await t.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    const list = await t.inject({ method: 'GET', url: '/v1/orgs', headers: t.root });
    assert.ok(Date.now() - started < 8000, `answered in ${Date.now() - started} ms`);
    assert.equal(list.statusCode, 503, list.body);
    assert.equal(list.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(list.json().code, 'store_unavailable');
    assert.ok(list.headers['retry-after']);
    assert.ok(!/ECONN|pg|prisma/i.test(list.json().detail), 'no internals in the body');

    await relay.open();
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      recovered = (await t.inject({ method: 'GET', url: '/v1/orgs', headers: t.root })).statusCode === 200;
      if (!recovered) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.ok(recovered, 'the API recovered without a restart');
  });
});
