import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestApp, type TestApp } from './app.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Inside node_modules, so the compiled CLI resolves its packages from the project's node_modules.
const BUILD_DIR = join(ROOT, 'node_modules', '.cache', 'latchkey-cli-test');

/**
 * Compiles the CLI's import graph only (src/cli/main.ts and what it imports) with the project's
 * tsc: every test then starts plain node, about a second faster than tsx per child process.
 */
export async function compileCli(): Promise<string> {
  await rm(BUILD_DIR, { recursive: true, force: true });
  await mkdir(BUILD_DIR, { recursive: true });
  await writeFile(
    join(BUILD_DIR, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../../tsconfig.json',
      compilerOptions: { noEmit: false, sourceMap: false, rootDir: '../../../src', outDir: '.' },
      include: [],
      files: ['../../../src/cli/main.ts'],
    }),
  );
  const tsc = await run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(BUILD_DIR, 'tsconfig.json')], {
    env: process.env,
    cwd: ROOT,
  });
  if (tsc.code !== 0) throw new Error(`compiling the CLI failed:\n${tsc.stdout}${tsc.stderr}`);
  // What bin/latchkey.js does with dist/src/cli/main.js.
  const entry = join(BUILD_DIR, 'latchkey.js');
  await writeFile(
    entry,
    `import { main } from './cli/main.js';\n` +
      `process.exitCode = await main(process.argv.slice(2), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env });\n`,
  );
  return entry;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a child process to its end; a non-zero exit is a result, not an exception. `input` is written to its stdin. */
function run(file: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string }, input?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { ...options, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export interface CliHarness {
  t: TestApp;
  /** The listening service's URL. */
  url: string;
  /** A home directory of its own (XDG_CONFIG_HOME inside it) for profile files. */
  home: string;
  configDir: string;
  /** The environment that points the CLI at the service with the root token. */
  root: Record<string, string>;
  /** Runs `latchkey ARGS` as a child process; env holds only what the test gives (plus PATH, HOME); `input` is its stdin. */
  latchkey(args: string[], env?: Record<string, string>, input?: string): Promise<CliResult>;
  /** Runs the CLI (as root unless env says otherwise), asserts it succeeded, showing its stderr when it did not; returns stdout. */
  ok(args: string[], env?: Record<string, string>): Promise<string>;
  /** `ok` with `-o json`, parsed. */
  json(args: string[], env?: Record<string, string>): Promise<any>;
  close(): Promise<void>;
}

/** A real listening service on 127.0.0.1 and the compiled CLI, run as a user runs it. */
export async function startCliHarness(): Promise<CliHarness> {
  const main = await compileCli();
  const t = await startTestApp();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = t.app.server.address() as AddressInfo;
  const home = await mkdtemp(join(tmpdir(), 'latchkey-cli-'));
  const configDir = join(home, 'config');
  const url = `http://127.0.0.1:${port}`;
  const root = { LATCHKEY_URL: url, LATCHKEY_TOKEN: t.rootToken };
  const latchkey = (args: string[], env: Record<string, string> = {}, input?: string) =>
    run(process.execPath, [main, ...args], { env: { PATH: process.env.PATH ?? '', HOME: home, XDG_CONFIG_HOME: configDir, ...env }, cwd: home }, input);
  const ok = async (args: string[], env: Record<string, string> = root) => {
    const result = await latchkey(args, env);
    assert.equal(result.code, 0, `latchkey ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return result.stdout;
  };
  return {
    t,
    url,
    home,
    configDir,
    root,
    latchkey,
    ok,
    json: async (args, env = root) => JSON.parse(await ok([...args, '-o', 'json'], env)),
    close: async () => {
      await t.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
