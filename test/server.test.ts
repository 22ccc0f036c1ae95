import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cleanEnv, freePort } from './helpers/server-process.js';

// The real process, as `npm start` runs it (through tsx, so no build is needed): config from the
// environment, the embedded store in a data directory, the token banner, signals.

const REPO = fileURLToPath(new URL('..', import.meta.url));
const STARTUP_TIMEOUT_MS = 60_000;

interface Server {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnServer(env: NodeJS.ProcessEnv): Server {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { child, url: `http://127.0.0.1:${env.PORT}`, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Starts the server on the data directory and waits until /healthz answers. */
async function startServer(dataDir: string): Promise<Server> {
  const port = await freePort();
  const server = spawnServer(cleanEnv({ LOG_LEVEL: 'info', PORT: String(port), HOST: '127.0.0.1', LATCHKEY_DATA_DIR: dataDir }));
  let exited = false;
  void server.exited.then(() => (exited = true));
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline && !exited) {
    try {
      if ((await fetch(`${server.url}/healthz`)).ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  server.child.kill('SIGKILL');
  throw new Error(`the server did not become healthy:\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`);
}

async function stop(server: Server | undefined): Promise<void> {
  if (server && server.child.exitCode === null && server.child.signalCode === null) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
}

/** JSON log lines on stdout (pino writes JSON when stdout is not a terminal). */
const logLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: number; msg: string; [key: string]: unknown });

const ROOT_TOKEN = /lkr_[A-Za-z0-9]+/g;

describe('the server process on the embedded store', () => {
  let dataDir: string;
  let first: Server;
  let second: Server | undefined;
  let rootToken: string;
  let orgId: string;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-server-test-'));
    first = await startServer(dataDir);
  });
  after(async () => {
    await stop(first);
    await stop(second);
    await rm(dataDir, { recursive: true, force: true });
  });

  test('first start prints a root token exactly once, outside the logs', () => {
    const tokens = first.stdout().match(ROOT_TOKEN) ?? [];
    assert.equal(tokens.length, 1, `one token in:\n${first.stdout()}`);
    rootToken = tokens[0]!;
    assert.match(first.stdout(), /generated a root token/);
    for (const line of first
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{')))
      assert.ok(!line.includes(rootToken), 'no log line carries the token');
  });

  test('first start creates master.key readable by the owner only, with a warning', async () => {
    const info = await stat(join(dataDir, 'master.key'));
    assert.equal(info.mode & 0o777, 0o600);
    const warning = logLines(first.stdout()).find((line) => line.level === 40 && /LATCHKEY_MASTER_KEY is not set/.test(line.msg));
    assert.ok(warning, 'a warning says the master key was generated and must be backed up');
  });

  test('/healthz and /readyz answer, on the embedded store', async () => {
    const health = await fetch(`${first.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${first.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ok', store: 'pglite' });
  });

  test('the printed token authenticates', async () => {
    const res = await fetch(`${first.url}/v1/orgs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${rootToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'persisted-org', display_name: 'Persisted' }),
    });
    assert.equal(res.status, 201);
    orgId = ((await res.json()) as { id: string }).id;
  });

  test('SIGTERM exits 0 promptly', async () => {
    const started = Date.now();
    first.child.kill('SIGTERM');
    const { code } = await first.exited;
    assert.equal(code, 0);
    assert.ok(Date.now() - started < 5000, `exited after ${Date.now() - started} ms`);
  });

  test('a second start on the same directory prints no token; the old token and the data are still there', async () => {
    second = await startServer(dataDir);
    assert.equal(second.stdout().match(ROOT_TOKEN), null);
    assert.doesNotMatch(second.stdout(), /generated a root token/);
    assert.ok(!logLines(second.stdout()).some((line) => /LATCHKEY_MASTER_KEY is not set/.test(line.msg)), 'the stored master key is reused');
    const res = await fetch(`${second.url}/v1/orgs/${orgId}`, { headers: { authorization: `Bearer ${rootToken}` } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { name: string }).name, 'persisted-org');
  });
});

describe('the server process refuses a bad configuration', () => {
  const cases: { name: string; env: Record<string, string>; variable: string }[] = [
    { name: 'a port that is not a number', env: { PORT: 'abc' }, variable: 'PORT' },
    { name: 'DATABASE_URL without LATCHKEY_MASTER_KEY', env: { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/unused' }, variable: 'LATCHKEY_MASTER_KEY' },
    { name: 'a master key of the wrong length', env: { LATCHKEY_MASTER_KEY: 'c2hvcnQ=' }, variable: 'LATCHKEY_MASTER_KEY' },
  ];
  for (const { name, env, variable } of cases) {
    test(`${name}: exits non-zero with one stderr line naming ${variable}`, async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'latchkey-config-test-'));
      try {
        const server = spawnServer(cleanEnv({ LOG_LEVEL: 'info', PORT: '0', LATCHKEY_DATA_DIR: dataDir, ...env }));
        const { code } = await server.exited;
        assert.notEqual(code, 0);
        const lines = server.stderr().trimEnd().split('\n');
        assert.equal(lines.length, 1, `one line, got:\n${server.stderr()}`);
        assert.match(lines[0]!, new RegExp(`\\b${variable}\\b`));
        assert.equal(server.stdout(), '', 'nothing started, so nothing was logged');
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  }
});
