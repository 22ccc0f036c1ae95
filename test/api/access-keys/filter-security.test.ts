import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { type AddressInfo, createServer, isIP, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { isPublicAddress } from '../../../src/modules/access-keys/key-filter.js';
import { startTestApp, type TestApp } from '../../helpers/app.js';
import { createCluster, createOrg } from '../../helpers/principals.js';

/**
 * No request may make Latchkey connect to a private address. A listener on 127.0.0.1 (and ::1
 * where the machine has it) counts connections; every refused address must leave it at 0.
 *
 * No test here may send traffic anywhere but loopback, even if a check regressed: names resolve
 * only through a test resolver; `beforeConnect` (a seam that sees what passed the checks right
 * before the socket connects) and a wrapper around tls.connect (literal addresses skip DNS) both
 * abort any connect to a non-loopback address and record it as a violation.
 */
describe('access keys: SSRF refusals at create and at fetch', () => {
  let port: number;
  let connections = 0;
  const listeners: Server[] = [];
  const sockets = new Set<Socket>();
  const violations: string[] = [];
  const originalConnect = tls.connect;
  let t: TestApp;
  let allowed: TestApp;

  // 0.0.0.0 as a destination reaches this host too; the listener would count it.
  const isLoopback = (address: string) =>
    address === '0.0.0.0' || address.startsWith('127.') || address === '::1' || address === '::ffff:127.0.0.1' || address === '::ffff:7f00:1';

  // Names the test resolver knows; anything else fails to resolve.
  const NAMES: Record<string, string[]> = {
    'loopback.test': ['127.0.0.1'],
    localhost: ['127.0.0.1'],
    'ten.test': ['10.0.0.1'],
    'metadata.test': ['169.254.169.254'],
    'cgnat.test': ['100.64.0.1'],
    'ula.test': ['fd00::1'],
    'mapped.test': ['::ffff:192.168.1.1'],
    'mixed.test': ['93.184.216.34', '10.0.0.1'],
  };
  const lookup = async (hostname: string): Promise<LookupAddress[]> => {
    const addresses = NAMES[hostname];
    if (!addresses) throw Object.assign(new Error(`unknown test name ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: isIP(address) }));
  };
  const beforeConnect = (hostname: string, addresses: LookupAddress[]) => {
    // Only loopback may be dialled from a test; anything else is a regression caught before it leaves.
    for (const { address } of addresses) {
      if (!isLoopback(address)) {
        violations.push(`${hostname} -> ${address}`);
        throw new Error(`test guard: refusing to connect to ${address}`);
      }
    }
  };

  before(async () => {
    const count = (socket: Socket) => {
      connections++;
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.destroy();
    };
    const v4 = createServer(count);
    await new Promise<void>((resolve) => v4.listen(0, '127.0.0.1', resolve));
    listeners.push(v4);
    port = (v4.address() as AddressInfo).port;
    const v6 = createServer(count);
    await new Promise<void>((resolve) => {
      v6.once('error', () => resolve());
      v6.listen(port, '::1', () => {
        listeners.push(v6);
        resolve();
      });
    });
    (tls as { connect: typeof tls.connect }).connect = function guardedConnect(this: unknown, ...args: unknown[]) {
      const options = args.find((a) => typeof a === 'object' && a !== null) as { host?: string } | undefined;
      const host = options?.host?.replace(/^\[|\]$/g, '');
      if (host && isIP(host) && !isLoopback(host)) {
        violations.push(`literal ${host}`);
        throw new Error(`test guard: refusing to connect to ${host}`);
      }
      return (originalConnect as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
    } as typeof tls.connect;
    t = await startTestApp({ keyFilterSeams: { lookup, beforeConnect } });
    allowed = await startTestApp({
      env: { LATCHKEY_KEY_FILTER_ALLOWED_HOSTS: `127.0.0.1:${port},loopback.test:${port}` },
      keyFilterSeams: { lookup, beforeConnect },
    });
  });
  after(async () => {
    (tls as { connect: typeof tls.connect }).connect = originalConnect;
    await t.close();
    await allowed.close();
    for (const socket of sockets) socket.destroy();
    await Promise.all(listeners.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const LITERALS = [
    '127.0.0.1',
    '[::1]',
    '0.0.0.0',
    '10.0.0.1',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '[fd00::1]',
    '[::ffff:127.0.0.1]',
    '100.64.0.1',
    '2130706433',
    '0177.0.0.1',
    '[::ffff:10.0.0.1]',
    '[::127.0.0.1]',
    '[fe80::1]',
    '[ff02::1]',
    '255.255.255.255',
    '224.0.0.1',
  ];
  const NAMED = ['localhost', 'loopback.test', 'ten.test', 'metadata.test', 'cgnat.test', 'ula.test', 'mapped.test', 'mixed.test', 'unknown.test'];

  async function cluster(app: TestApp) {
    const orgId = await createOrg(app);
    const { resourceId } = await createCluster(app, orgId, 'fluvio_cluster');
    return { orgId, clusterId: resourceId, base: `/v1/orgs/${orgId}/resources/${resourceId}/access-keys` };
  }

  test('the address checker: global unicast only', () => {
    for (const address of [
      '127.0.0.1',
      '::1',
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      'fd00::1',
      'fc00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:169.254.169.254',
      '::127.0.0.1',
      '100.64.0.1',
      '224.0.0.1',
      'ff02::1',
      '255.255.255.255',
      '192.0.2.1',
      '2001:db8::1',
      '2002:a00:1::',
      '64:ff9b::a00:1',
      '240.0.0.1',
      'not-an-ip',
    ]) {
      assert.equal(isPublicAddress(address), false, address);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8']) {
      assert.equal(isPublicAddress(address), true, address);
    }
  });

  test('at create: a literal refused address (in any spelling) or localhost is 422 naming key_filter_remote', async () => {
    const c = await cluster(t);
    for (const host of [...LITERALS, 'localhost', 'sub.localhost']) {
      const res = await t.inject({
        method: 'POST',
        url: c.base,
        headers: t.root,
        payload: { name: 'k', topic: 'a', key_filter_remote: `p:https://${host}:${port}/f` },
      });
      assert.equal(res.statusCode, 422, `${host}: ${res.body}`);
      assert.equal(res.json().errors[0].path, 'key_filter_remote');
    }
    assert.equal(await t.store.prisma.accessKey.count({ where: { clusterId: c.clusterId } }), 0);
    assert.equal(connections, 0);
  });

  test('at create: an allowed host:port is accepted; the same address on another port is not', async () => {
    const c = await cluster(allowed);
    const ok = await allowed.inject({
      method: 'POST',
      url: c.base,
      headers: allowed.root,
      payload: { name: 'k', topic: 'a', key_filter_remote: `p:https://127.0.0.1:${port}/f` },
    });
    assert.equal(ok.statusCode, 201, ok.body);
    const decimal = await allowed.inject({
      method: 'POST',
      url: c.base,
      headers: allowed.root,
      payload: { name: 'd', topic: 'a', key_filter_remote: `p:https://2130706433:${port}/f` },
    });
    assert.equal(decimal.statusCode, 201, 'the same address spelled in decimal is the same allowed origin');
    const otherPort = await allowed.inject({
      method: 'POST',
      url: c.base,
      headers: allowed.root,
      payload: { name: 'o', topic: 'a', key_filter_remote: `p:https://127.0.0.1:${port + 1}/f` },
    });
    assert.equal(otherPort.statusCode, 422);
  });

  test('at fetch: every refused address, literal or resolved, is KEY_FILTER_UNAVAILABLE without a connection', async () => {
    const c = await cluster(t);
    const created = await t.inject({
      method: 'POST',
      url: c.base,
      headers: t.root,
      payload: { name: 'k', topic: 'a', key_filter_remote: 'p:https://filters.example.com/f' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const key = created.json().key as string;
    // Names are checked at every fetch (DNS changes); literals are written straight into the row, as
    // if the allow list had changed since the key was created.
    for (const host of [...LITERALS, ...NAMED]) {
      await t.store.prisma.accessKey.updateMany({ where: { clusterId: c.clusterId }, data: { keyFilterRemote: `p:https://${host}:${port}/f` } });
      // The cached hash check still holds the old URL: drop it as an invalidation would.
      t.store.bus.deliver('all');
      const res = await t.inject({
        method: 'POST',
        url: '/v1/verify/access-key',
        headers: t.root,
        payload: { access_key: key, cluster_id: c.clusterId, operation: 'consume', params: { p: 'v' } },
      });
      assert.deepEqual(res.json(), { valid: false, code: 'KEY_FILTER_UNAVAILABLE' }, host);
    }
    assert.equal(connections, 0, 'no refused address was connected to');
    assert.deepEqual(violations, []);
  });

  test('at fetch: an allowed host:port is connected to (so the listener does count)', async () => {
    const c = await cluster(allowed);
    for (const [name, host] of [
      ['lit', '127.0.0.1'],
      ['named', 'loopback.test'],
    ] as const) {
      const created = await allowed.inject({
        method: 'POST',
        url: c.base,
        headers: allowed.root,
        payload: { name, topic: 'a', key_filter_remote: `p:https://${host}:${port}/f` },
      });
      assert.equal(created.statusCode, 201, created.body);
      const before = connections;
      const res = await allowed.inject({
        method: 'POST',
        url: '/v1/verify/access-key',
        headers: allowed.root,
        payload: { access_key: created.json().key, cluster_id: c.clusterId, operation: 'consume', params: { p: 'v' } },
      });
      // The listener is not an HTTPS server: the TLS handshake fails, so the filter is unavailable.
      assert.equal(res.json().code, 'KEY_FILTER_UNAVAILABLE');
      assert.ok(connections > before, `${host}: the allowed origin was reached`);
    }
    assert.deepEqual(violations, []);
  });
});
