import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateSecret, SecretPrefix } from '../../src/crypto/tokens.js';
import { Callgrind, type Dump } from './callgrind.js';
import { type LoadResult, type LoadSpec, runLoad } from './load.js';
import { ScratchDatabase, serverVersion } from './postgres.js';
import { ServerProcess, type ServerSpec, stopAll } from './processes.js';
import { fromLoad, type Report, type ScenarioReport } from './report.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RESULTS = join(REPO, 'bench', 'results');

export interface Settings {
  quick: boolean;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  cachedKeys: number;
  invalidKeys: number;
  coldKeysMin: number;
  listKeys: number;
  /** --quick must end within about 3 minutes: list seeding gets what is left of this once the scenarios after it are accounted for. */
  quickTotalSeconds: number;
  quickTailSeconds: number;
  propagationKeys: number;
  /** Keys are spread over this many service accounts (creation is serialized per owner). */
  owners: number;
  listOwners: number;
  peerKeys: number;
  /** Access keys per access-key scenario (each costs one argon2 hash to create and one to warm). */
  accessKeys: number;
  healthzConnections: number;
  healthzRate: number;
  /** Latchkey processes behind the primary (--replicas). */
  replicas: number;
  /** Keys replica_revocation revokes, one after the other, under load. */
  replicaRevocationKeys: number;
  /** Credentials per verify_batch request. */
  batchSize: number;
  logLevel: string;
  caller: 'cloud-key' | 'root';
  /** --set NAME=value: extra environment for every Latchkey process (tuning experiments) */
  latchkeyEnv: Record<string, string>;
}

export interface Store {
  kind: 'postgres' | 'pglite';
  databaseUrl?: string;
  peerDatabaseUrl?: string;
  dataDir: string;
  label: string;
}

/** How `npm start` and the Docker image run Latchkey (README, Configuration); the helper servers run the same way. */
const LAUNCH_ENV = {
  MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
  NODE_OPTIONS: `--max-old-space-size=512 ${process.env.NODE_OPTIONS ?? ''}`.trim(),
};
const launchLabel = Object.entries(LAUNCH_ENV)
  .map(([name, value]) => `${name}="${value}"`)
  .join(' ');

/** The parent's environment without anything that would configure Latchkey behind our back. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith('LATCHKEY_') || ['DATABASE_URL', 'PORT', 'HOST', 'LOG_LEVEL'].includes(name)) continue;
    env[name] = value;
  }
  return { ...env, ...LAUNCH_ENV };
}

/** Servers one measured load is spread over: one process, or the replicas of the primary. */
export type Servers = ServerProcess | readonly ServerProcess[];
const asList = (servers: Servers): readonly ServerProcess[] => (servers instanceof ServerProcess ? [servers] : servers);

export type MeasureSpec = Omit<LoadSpec, 'baseUrl' | 'connections' | 'durationSeconds'> & { connections?: number; durationSeconds?: number };

/**
 * What every scenario shares: settings, the store, the processes it starts (all stopped on exit),
 * the primary Latchkey, measured loads, the results, and values computed once per run.
 */
export class Context {
  readonly runDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  readonly masterKey = randomBytes(32).toString('base64');
  readonly rootToken = generateSecret(SecretPrefix.root);
  readonly processPeaks: Record<string, number> = {};
  readonly #databases: ScratchDatabase[] = [];
  readonly #memo = new Map<string, Promise<unknown>>();
  readonly #t0 = performance.now();
  /** --callgrind: what runs servers under valgrind and counts the instructions of measured loads. */
  readonly #callgrind: Callgrind | undefined;
  #command: { args: string[]; label: string } | undefined;
  #primary: Promise<ServerProcess[]> | undefined;
  #primaryEnv: Record<string, string> = {};
  #primaryStopped = false;
  #cleanedUp = false;
  store!: Store;
  report!: Report;

  constructor(
    readonly settings: Settings,
    readonly options: { selected: ReadonlySet<string>; cpuProf: boolean; tsx: boolean; keep: boolean; callgrind: boolean },
  ) {
    this.#callgrind = options.callgrind ? new Callgrind(this.runDir, [join(this.runDir, 'build'), REPO]) : undefined;
  }

  /** How a server process is started: under valgrind with --callgrind (its start-up then takes minutes). */
  #launch(): Pick<ServerSpec, 'launcher' | 'readyTimeoutMs'> & { env: Record<string, string> } {
    if (!this.#callgrind) return { env: {} };
    return { launcher: this.#callgrind.launcher, readyTimeoutMs: 15 * 60_000, env: this.#callgrind.env };
  }

  log(message: string): void {
    process.stderr.write(`[${this.elapsedSeconds().toFixed(1).padStart(6)}s] ${message}\n`);
  }

  elapsedSeconds(): number {
    return (performance.now() - this.#t0) / 1000;
  }

  selected(name: string): boolean {
    return this.options.selected.has(name);
  }

  /** The results of the scenarios measured so far. */
  get scenarios(): Record<string, ScenarioReport> {
    return this.report.scenarios;
  }

  /** Scratch databases on DATABASE_URL's server (Latchkey's and the peer's), or the embedded store. */
  async openStore(databaseUrl: string | undefined): Promise<Store> {
    const store: Store = { kind: databaseUrl ? 'postgres' : 'pglite', dataDir: join(this.runDir, 'data'), label: 'embedded PGlite' };
    if (databaseUrl) {
      const latchkeyDb = await ScratchDatabase.create(databaseUrl, 'latchkey_bench');
      this.#databases.push(latchkeyDb);
      const peerDb = await ScratchDatabase.create(databaseUrl, 'latchkey_bench_peer');
      this.#databases.push(peerDb);
      store.databaseUrl = latchkeyDb.url;
      store.peerDatabaseUrl = peerDb.url;
      store.label = `${await serverVersion(databaseUrl)}, scratch databases ${latchkeyDb.name} and ${peerDb.name}`;
    }
    this.store = store;
    return store;
  }

  async cleanUp(keepFiles: boolean): Promise<void> {
    if (this.#cleanedUp) return;
    this.#cleanedUp = true;
    await stopAll();
    this.#callgrind?.dispose();
    for (const database of this.#databases) {
      if (this.options.keep) this.log(`--keep: database ${database.name} left in place (drop it yourself)`);
      else await database.drop().catch((error: unknown) => this.log(`could not drop ${database.name}: ${String(error)}`));
    }
    if (!keepFiles) rmSync(this.runDir, { recursive: true, force: true });
    else this.log(`logs and data kept in ${this.runDir}`);
  }

  /**
   * Latchkey runs as production runs it: compiled JavaScript. A private build of the working tree
   * goes to the run's temp directory (never a possibly stale dist/); --tsx runs the sources instead
   * (tsx's loader costs about 70 MB of RSS and some startup time).
   */
  get command(): { args: string[]; label: string } {
    this.#command ??= this.#buildCommand();
    return this.#command;
  }

  #buildCommand(): { args: string[]; label: string } {
    const profile = this.options.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(RESULTS, 'profiles')}`] : [];
    const viaTsx = { args: [...profile, '--import', 'tsx', 'src/server.ts'], label: 'node --import tsx src/server.ts' };
    if (this.options.tsx) return viaTsx;
    const outDir = join(this.runDir, 'build');
    const build = spawnSync(join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: REPO, encoding: 'utf8' });
    if (build.status !== 0) {
      this.log(`warning: compiling src/ failed, running it through tsx instead:\n${(build.stdout + build.stderr).trim().split('\n').slice(0, 10).join('\n')}`);
      return viaTsx;
    }
    // The build finds its packages and migrations where a checkout has them.
    symlinkSync(join(REPO, 'node_modules'), join(this.runDir, 'node_modules'));
    symlinkSync(join(REPO, 'prisma'), join(this.runDir, 'prisma'));
    return { args: [...profile, join(outDir, 'src', 'server.js')], label: `${launchLabel} node <fresh tsc build of src/>/server.js` };
  }

  /**
   * A Latchkey process on the run's store. `failuresPerMinute` raises the failed-attempt limits
   * (undefined keeps the defaults: only the verify_invalid scenarios want them).
   */
  async startLatchkey(name: string, failuresPerMinute: number | undefined, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
    const env: Record<string, string> = {
      ...cleanEnv(),
      HOST: '127.0.0.1',
      LOG_LEVEL: this.settings.logLevel,
      LATCHKEY_MASTER_KEY: this.masterKey,
      LATCHKEY_ROOT_TOKEN: this.rootToken,
      ...(failuresPerMinute !== undefined
        ? {
            LATCHKEY_AUTH_FAILURES_PER_MINUTE: String(failuresPerMinute),
            LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: String(failuresPerMinute),
            LATCHKEY_VERIFY_FAILURES_PER_ADDRESS_PER_MINUTE: String(failuresPerMinute),
          }
        : {}),
      // The bench owns far more keys per principal than the default quota allows.
      LATCHKEY_KEY_QUOTA_OTHER: '1000000',
      LATCHKEY_DATA_DIR: this.store.dataDir,
      ...(this.store.databaseUrl ? { DATABASE_URL: this.store.databaseUrl } : {}),
      ...this.settings.latchkeyEnv,
      ...extraEnv,
    };
    const launch = this.#launch();
    const spec: ServerSpec = { name, args: this.command.args, cwd: REPO, logDir: this.runDir, ...launch, env: { ...env, ...launch.env } };
    for (let attempt = 1; ; attempt++) {
      try {
        const server = await ServerProcess.start(spec, '/readyz');
        this.log(`${name} ready on ${server.url} (pid ${server.pid})`);
        return server;
      } catch (error) {
        // Under valgrind, start-up is slow enough that the store's 2-second connect timeout can
        // expire while modules still load: try again rather than lose the run.
        if (!this.#callgrind || attempt === 3) throw error;
        this.log(
          `${name} did not start under valgrind (attempt ${attempt}), trying again: ${error instanceof Error ? error.message.replaceAll('\n', ' | ') : String(error)}`,
        );
      }
    }
  }

  async startHelper(name: string, script: string, env: Record<string, string>): Promise<ServerProcess> {
    const launch = this.#launch();
    const server = await ServerProcess.start(
      {
        name,
        args: ['--import', 'tsx', join('bench', 'servers', script)],
        cwd: REPO,
        logDir: this.runDir,
        ...launch,
        env: { ...cleanEnv(), ...env, ...launch.env },
      },
      '/healthz',
    );
    this.log(`${name} ready on ${server.url} (pid ${server.pid})`);
    return server;
  }

  async stopServer(server: ServerProcess): Promise<void> {
    this.processPeaks[server.name] = Math.round(Math.max(this.processPeaks[server.name] ?? 0, server.lifetimePeakMb()) * 10) / 10;
    await server.stop();
  }

  /** Extra environment for the primary; only before it starts (scenarios' `prepare`). */
  addPrimaryEnv(env: Record<string, string>): void {
    if (this.#primary) throw new Error('the primary Latchkey already runs');
    Object.assign(this.#primaryEnv, env);
  }

  /**
   * The shared Latchkey: `settings.replicas` processes on the run's store (latchkey-a, or
   * latchkey-a1 … latchkey-aN), started on first use. The first one serves management calls;
   * measured loads spread their connections over all of them.
   */
  primary(): Promise<ServerProcess[]> {
    if (this.#primaryStopped) return Promise.reject(new Error('the primary Latchkey has stopped (a scenario that needs it runs too late: see `seed`)'));
    this.#primary ??= (async () => {
      const n = this.settings.replicas;
      const names = n === 1 ? ['latchkey-a'] : Array.from({ length: n }, (_, i) => `latchkey-a${i + 1}`);
      const servers: ServerProcess[] = [];
      // One after the other: the first applies migrations, the others find them done.
      for (const name of names) servers.push(await this.startLatchkey(name, 1_000_000, this.#primaryEnv));
      return servers;
    })();
    return this.#primary;
  }

  async stopPrimary(): Promise<void> {
    if (!this.#primary || this.#primaryStopped) return;
    this.#primaryStopped = true;
    const servers = await this.#primary;
    for (const server of servers) await this.stopServer(server);
  }

  /** A value computed once per run (an organization, seeded keys), shared by the scenarios that need it. */
  once<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let value = this.#memo.get(key) as Promise<T> | undefined;
    if (!value) {
      value = compute();
      this.#memo.set(key, value);
    }
    return value;
  }

  /** Hands a value to later scenarios' `once(key, …)` (e.g. the keys create_key made). */
  share<T>(key: string, value: T): void {
    this.#memo.set(key, Promise.resolve(value));
  }

  /** A measured load spread over `servers`, after a short warm-up with the same settings. */
  async measure(
    servers: Servers,
    spec: MeasureSpec,
    options: { warmup?: boolean; note?: string } = {},
  ): Promise<{ result: LoadResult; report: ScenarioReport }> {
    const list = asList(servers);
    const full: LoadSpec = {
      baseUrl: list.map((server) => server.url),
      connections: this.settings.connections,
      durationSeconds: this.settings.durationSeconds,
      ...spec,
    };
    if (options.warmup !== false && spec.amount === undefined) {
      await runLoad({ ...full, title: `${spec.title} warm-up`, durationSeconds: this.settings.warmupSeconds });
    }
    // Under callgrind: timed rounds until one lands within 3% of the cheapest before it, and
    // the cheapest counts. The first rounds after a warm-up still carry JIT compilation and run
    // slower while valgrind instruments the code afresh; such costs only ever add.
    let best: Measured | undefined;
    for (let round = 1; ; round++) {
      const measured = await this.#measureOnce(list, full);
      // A load of exactly `amount` requests (each credential once) cannot be repeated alike.
      if (!this.#callgrind || spec.amount !== undefined) {
        best = measured;
        break;
      }
      this.log(`${spec.title}: round ${round}: ${Math.round(perResponse(measured))} instructions/answer over ${measured.result.responses} answers`);
      const settled = best !== undefined && Math.abs(perResponse(measured) - perResponse(best)) <= perResponse(best) * 0.03;
      if (!best || perResponse(measured) < perResponse(best)) best = measured;
      if (settled || round === CALLGRIND_MAX_ROUNDS) break;
    }
    const { result, cpuUsed, instructions, dumps } = best;
    const report = fromLoad(result, {
      peakRssMb: Math.max(...list.map((server) => server.windowPeakMb())),
      cpuSeconds: Number.isFinite(cpuUsed) ? cpuUsed : null,
      instructions,
      instructionProfile: this.#callgrind && instructions !== null && result.responses > 0 ? this.#callgrind.profile(dumps, result.responses) : undefined,
      connections: full.connections,
      server: list.map((server) => server.name).join('+'),
      ...(options.note ? { note: options.note } : {}),
    });
    this.log(
      `${spec.title}: ${report.rps} req/s ok, p50 ${report.p50_ms} ms, p99 ${report.p99_ms} ms, ${report.errors} errors, ` +
        `server CPU ${report.cpu_us_per_response ?? '?'} µs/answer (busy ${report.server_busy ?? '?'}), ` +
        `${report.instructions_per_response ? `${report.instructions_per_response} instructions/answer, ` : ''}statuses ${JSON.stringify(result.statuses)}`,
    );
    if (result.firstError) this.log(`${spec.title}: first unexpected answer: ${result.firstError}`);
    return { result, report };
  }

  /** One measured load: its result, the servers' CPU seconds and (under callgrind) instructions. */
  async #measureOnce(list: readonly ServerProcess[], full: LoadSpec): Promise<Measured> {
    for (const server of list) server.resetWindow();
    const cpuBefore = list.map((server) => server.cpuSeconds());
    const callgrind = this.#callgrind;
    for (const server of list) if (callgrind && server.pid !== undefined) callgrind.start(server.pid);
    const result = await runLoad(full);
    const cpuUsed = list.reduce((sum, server, i) => sum + ((server.cpuSeconds() ?? NaN) - (cpuBefore[i] ?? NaN)), 0);
    const counted = callgrind ? list.map((server) => (server.pid === undefined ? undefined : callgrind.stop(server.pid))) : [];
    const dumps = counted.flatMap((count) => (count ? [count.dump] : []));
    const instructions = callgrind ? counted.reduce((sum, count) => sum + (count?.instructions ?? NaN), 0) : null;
    return { result, cpuUsed, instructions: instructions !== null && Number.isFinite(instructions) ? instructions : null, dumps };
  }
}

interface Measured {
  result: LoadResult;
  cpuUsed: number;
  instructions: number | null;
  /** --callgrind: the dumps of this load, one per server process. */
  dumps: Dump[];
}

const CALLGRIND_MAX_ROUNDS = 8;
const perResponse = ({ result, instructions }: Measured) => (instructions === null || result.responses === 0 ? Infinity : instructions / result.responses);
