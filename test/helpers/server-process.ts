import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

// The real process, as `npm start` runs it (through tsx, so no build is needed).

const REPO = fileURLToPath(new URL('../..', import.meta.url));
// Generous: on a loaded CI machine tsx, PGlite and the migrations can take a minute or more to start.
const STARTUP_TIMEOUT_MS = 180_000;

/** The master key every test process uses with Postgres: the same as startTestApp's, as they share the database. */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString('base64');
export const TEST_ROOT_TOKEN = 'test-root-token-0123456789abcdef0123456789abcdef';

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** The caller's environment without anything that would configure Latchkey (CI sets DATABASE_URL). */
export function cleanEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(DATABASE_URL|PORT|HOST|LOG_LEVEL|LATCHKEY_\w+|NODE_TEST_CONTEXT)$/.test(name)) continue;
    env[name] = value;
  }
  return { LOG_LEVEL: 'warn', ...env, ...overrides };
}

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive: () => boolean;
  /** fetch against the server with the root token. */
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any; headers: Headers }>;
}

export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const port = env.PORT ?? String(await freePort());
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: REPO,
    env: cleanEnv({ HOST: '127.0.0.1', ...env, PORT: port }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const url = `http://127.0.0.1:${port}`;
  return {
    child,
    pid: child.pid!,
    url,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    request: async (method, path, body, headers) => {
      const res = await fetch(url + path, {
        method,
        headers: {
          authorization: `Bearer ${TEST_ROOT_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = text;
      }
      return { status: res.status, json, headers: res.headers };
    },
  };
}

/** Spawns the server and waits until /healthz answers; throws with its output if it exits or hangs. */
export async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const server = await spawnServer({ LATCHKEY_ROOT_TOKEN: TEST_ROOT_TOKEN, ...env });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline && server.alive()) {
    try {
      if ((await fetch(`${server.url}/healthz`)).ok) return server;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await kill9(server);
  throw new Error(`the server did not become healthy:\nstdout:\n${server.stdout()}\nstderr:\n${server.stderr()}`);
}

export async function kill9(server: ServerProcess | undefined): Promise<void> {
  if (server?.alive()) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
}

/** Polls until `check` is true or the time is up; returns the milliseconds it took, or Infinity. */
export async function within(ms: number, check: () => Promise<boolean>, every = 100): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await check().catch(() => false)) return Date.now() - start;
    await new Promise((resolve) => setTimeout(resolve, every));
  }
  return Infinity;
}
