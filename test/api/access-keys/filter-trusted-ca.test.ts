import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../helpers/server-process.js';
import { selfSignedCertificate } from '../../helpers/tls.js';

// The production trust path, which the in-process tests replace with a `ca` seam: Node reads
// NODE_EXTRA_CA_CERTS only at start-up, so the real server runs as a child process with it set.

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const ROOT_TOKEN = 'extra-ca-root-token-0123456789abcdef0123456789';

describe('access keys: a remote key filter trusted through NODE_EXTRA_CA_CERTS (real server process)', () => {
  const certificate = selfSignedCertificate('extra-ca');
  let dir: string;
  let remote: Server;
  let origin: string;
  let child: ChildProcess;
  let url: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latchkey-extra-ca-'));
    await writeFile(join(dir, 'ca.pem'), certificate.cert);
    remote = createHttpsServer({ key: certificate.key, cert: certificate.cert }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => response.writeHead(200).end(`filter:${Buffer.concat(chunks).toString('utf8')}`));
    });
    remote.listen(0, '127.0.0.1');
    await once(remote, 'listening');
    origin = `127.0.0.1:${(remote.address() as AddressInfo).port}`;

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (!/^(DATABASE_URL|PORT|HOST|LOG_LEVEL|LATCHKEY_\w+|NODE_TEST_CONTEXT|NODE_EXTRA_CA_CERTS)$/.test(name)) env[name] = value;
    }
    Object.assign(env, {
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      LATCHKEY_DATA_DIR: join(dir, 'data'),
      LATCHKEY_ROOT_TOKEN: ROOT_TOKEN,
      LATCHKEY_KEY_FILTER_ALLOWED_HOSTS: origin,
      NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'),
    });
    child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: REPO, env, stdio: 'ignore' });
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && child.exitCode === null) {
      try {
        if ((await fetch(`${url}/healthz`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error('the server did not start');
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    remote?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const call = async (method: string, path: string, body?: object) => {
    const response = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${ROOT_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, json: (await response.json()) as Record<string, any> };
  };

  test('the filter is fetched over HTTPS with the extra CA and returned as key_filter', async () => {
    const org = await call('POST', '/v1/orgs', { name: `extra-ca-${Date.now()}` });
    const env = await call('POST', `/v1/orgs/${org.json.id}/environments`, { display_name: 'e' });
    const cluster = await call('POST', `/v1/orgs/${org.json.id}/resources`, { kind: 'fluvio_cluster', display_name: 'f', environment_id: env.json.id });
    const created = await call('POST', `/v1/orgs/${org.json.id}/resources/${cluster.json.id}/access-keys`, {
      name: 'filtered',
      topic: 'orders',
      consume: true,
      key_filter_remote: `tenant:https://${origin}/filter`,
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const verified = await call('POST', '/v1/verify/access-key', {
      access_key: created.json.key,
      cluster_id: cluster.json.id,
      operation: 'consume',
      params: { tenant: 'acme' },
    });
    assert.equal(verified.status, 200);
    assert.equal(verified.json.code, 'VALID', JSON.stringify(verified.json));
    assert.equal(verified.json.key_filter, 'filter:acme');
  });
});
