/**
 * `npm run bench [-- --quick] [-- --check]`: starts Latchkey as a separate process (Postgres when
 * DATABASE_URL is set, otherwise the embedded store), seeds it through the public API, drives it
 * with autocannon over 127.0.0.1 and compares it with a bare Fastify ceiling and with
 * better-auth's API key plugin. See bench/README.md for how to read the output.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateSecret, SecretPrefix } from '../src/crypto/tokens.js';
import {
  bearer,
  call,
  mapLimit,
  createFluvioCluster,
  createKeyBodies,
  seedAccessKeys,
  seedClusterKeys,
  seedKeys,
  verifyAccessKeyBody,
  setUpOrg,
  setUpPulsarCluster,
  verifyClusterKeyBody,
  verifyBody,
  warmCache,
  type BenchOrg,
  type CreatedKey,
} from './lib/latchkey.js';
import { runLoad, type LoadResult, type LoadSpec, type Outcome } from './lib/load.js';
import { analyze, autovacuumIsOn, ScratchDatabase, serverVersion } from './lib/postgres.js';
import { freePort, killAllNow, ServerProcess, stopAll } from './lib/processes.js';
import { evaluateTargets, fromLoad, ratio, renderChecks, renderTable, type Report, type ScenarioReport } from './lib/report.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = join(REPO, 'bench', 'results');
const GROUPS = ['baseline', 'create_key', 'verify_cached', 'verify_cold', 'verify_cluster_key_cached', 'verify_cluster_key_cold', 'list_keys', 'revocation_propagation', 'peer_verify', 'verify_invalid', 'verify_metrics', 'verify_access_key_cached', 'verify_access_key_filter', 'enrol', 'details'] as const;
type Group = (typeof GROUPS)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    only: { type: 'string' },
    'log-level': { type: 'string', default: 'warn' },
    'cpu-prof': { type: 'boolean', default: false },
    connections: { type: 'string', default: '50' },
    caller: { type: 'string', default: 'cloud-key' },
    keep: { type: 'boolean', default: false },
    tsx: { type: 'boolean', default: false },
    set: { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(`npm run bench -- [--quick] [--check] [--only ${GROUPS.join(',')}] [--caller cloud-key|root] [--set LATCHKEY_X=value]... [--tsx] [--log-level warn] [--cpu-prof] [--connections 50] [--keep] [--out file]\n`);
  process.exit(0);
}

const quick = args.quick;
const settings = {
  connections: Number(args.connections),
  durationSeconds: quick ? 5 : 15,
  warmupSeconds: quick ? 1 : 3,
  cachedKeys: quick ? 1000 : 2000,
  invalidKeys: quick ? 200 : 500,
  coldKeysMin: quick ? 1500 : 5000,
  listKeys: quick ? 10_000 : 100_000,
  /**
   * --quick must end within 3 minutes: list seeding gets what is left of QUICK_TOTAL_SECONDS once
   * the scenarios after it are accounted for (the report says how far it got).
   */
  quickTotalSeconds: 165,
  quickTailSeconds: 55,
  propagationKeys: quick ? 50 : 200,
  /** Keys are spread over this many service accounts (creation is serialized per owner). */
  owners: 20,
  listOwners: 200,
  peerKeys: quick ? 1000 : 2000,
  /** Access keys per access-key scenario (each costs one argon2 hash to create and one to warm). */
  accessKeys: quick ? 300 : 1000,
  healthzConnections: 2,
  healthzRate: 100,
  logLevel: args['log-level'],
  caller: args.caller,
  /** --set NAME=value: extra environment for every Latchkey process (tuning experiments) */
  latchkeyEnv: Object.fromEntries(
    (args.set ?? []).map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 1) throw new Error(`--set ${pair}: expected NAME=value`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  ) as Record<string, string>,
};
if (settings.caller !== 'cloud-key' && settings.caller !== 'root') throw new Error('--caller is cloud-key or root');
const only = new Set<Group>((args.only?.split(',').map((g) => g.trim()) as Group[] | undefined) ?? GROUPS);
for (const group of only) if (!GROUPS.includes(group)) throw new Error(`--only: unknown scenario group ${group}; known: ${GROUPS.join(', ')}`);

const t0 = performance.now();
const log = (message: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${message}\n`);

const runDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
const databases: ScratchDatabase[] = [];
const processPeaks: Record<string, number> = {};
let cleanedUp = false;

async function cleanUp(keepFiles: boolean): Promise<void> {
  if (cleanedUp) return;
  cleanedUp = true;
  await stopAll();
  for (const database of databases) {
    if (args.keep) log(`--keep: database ${database.name} left in place (drop it yourself)`);
    else await database.drop().catch((error: unknown) => log(`could not drop ${database.name}: ${String(error)}`));
  }
  if (!keepFiles) rmSync(runDir, { recursive: true, force: true });
  else log(`logs and data kept in ${runDir}`);
}

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping servers and dropping scratch databases`);
    void cleanUp(args.keep).finally(() => process.exit(130));
  });
}

/**
 * Latchkey runs as production runs it: compiled JavaScript. A private build of the working tree
 * goes to the run's temp directory (never a possibly stale dist/); --tsx runs the sources instead
 * (tsx's loader costs about 70 MB of RSS and some startup time).
 */
function latchkeyCommand(): { args: string[]; label: string } {
  const profile = args['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${join(RESULTS, 'profiles')}`] : [];
  const viaTsx = { args: [...profile, '--import', 'tsx', 'src/server.ts'], label: 'node --import tsx src/server.ts' };
  if (args.tsx) return viaTsx;
  const outDir = join(runDir, 'build');
  const build = spawnSync(join(REPO, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: REPO, encoding: 'utf8' });
  if (build.status !== 0) {
    log(`warning: compiling src/ failed, running it through tsx instead:\n${(build.stdout + build.stderr).trim().split('\n').slice(0, 10).join('\n')}`);
    return viaTsx;
  }
  // The build finds its packages and migrations where a checkout has them.
  symlinkSync(join(REPO, 'node_modules'), join(runDir, 'node_modules'));
  symlinkSync(join(REPO, 'prisma'), join(runDir, 'prisma'));
  return { args: [...profile, join(outDir, 'src', 'server.js')], label: `${launchLabel} node <fresh tsc build of src/>/server.js` };
}

/** How `npm start` and the Docker image run Latchkey (README, Configuration); the helper servers run the same way. */
const LAUNCH_ENV = {
  MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
  NODE_OPTIONS: `--max-old-space-size=512 ${process.env.NODE_OPTIONS ?? ''}`.trim(),
};
const launchLabel = Object.entries(LAUNCH_ENV).map(([name, value]) => `${name}="${value}"`).join(' ');

/** The parent's environment without anything that would configure Latchkey behind our back. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || name.startsWith('LATCHKEY_') || ['DATABASE_URL', 'PORT', 'HOST', 'LOG_LEVEL'].includes(name)) continue;
    env[name] = value;
  }
  return { ...env, ...LAUNCH_ENV };
}

interface Store {
  kind: 'postgres' | 'pglite';
  databaseUrl?: string;
  peerDatabaseUrl?: string;
  dataDir: string;
}

const masterKey = randomBytes(32).toString('base64');
const rootToken = generateSecret(SecretPrefix.root);
const command = latchkeyCommand();

async function startLatchkey(name: string, store: Store, failuresPerMinute: number | undefined, extraEnv: Record<string, string> = {}): Promise<ServerProcess> {
  const env: Record<string, string> = {
    ...cleanEnv(),
    HOST: '127.0.0.1',
    LOG_LEVEL: settings.logLevel,
    LATCHKEY_MASTER_KEY: masterKey,
    LATCHKEY_ROOT_TOKEN: rootToken,
    // Scenarios other than verify_invalid must not be rate limited (polling a deleted key fails on purpose).
    ...(failuresPerMinute !== undefined
      ? {
          LATCHKEY_AUTH_FAILURES_PER_MINUTE: String(failuresPerMinute),
          LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: String(failuresPerMinute),
          LATCHKEY_VERIFY_FAILURES_PER_ADDRESS_PER_MINUTE: String(failuresPerMinute),
        }
      : {}),
    // The bench owns far more keys per principal than the default quota allows.
    LATCHKEY_KEY_QUOTA_OTHER: '1000000',
    LATCHKEY_DATA_DIR: store.dataDir,
    ...(store.databaseUrl ? { DATABASE_URL: store.databaseUrl } : {}),
    ...settings.latchkeyEnv,
    ...extraEnv,
  };
  const server = await ServerProcess.start({ name, args: command.args, env, cwd: REPO, logDir: runDir }, '/readyz');
  log(`${name} ready on ${server.url} (pid ${server.pid})`);
  return server;
}

async function startHelper(name: string, script: string, env: Record<string, string>): Promise<ServerProcess> {
  const server = await ServerProcess.start(
    { name, args: ['--import', 'tsx', join('bench', 'servers', script)], env: { ...cleanEnv(), ...env }, cwd: REPO, logDir: runDir },
    '/healthz',
  );
  log(`${name} ready on ${server.url} (pid ${server.pid})`);
  return server;
}

function recordPeak(server: ServerProcess): void {
  processPeaks[server.name] = Math.round(Math.max(processPeaks[server.name] ?? 0, server.lifetimePeakMb()) * 10) / 10;
}

async function stopServer(server: ServerProcess): Promise<void> {
  recordPeak(server);
  await server.stop();
}

/** With --caller root every call after the setup uses the root token instead of the caller's cloud key. */
async function setUpBenchOrg(baseUrl: string, name: string, owners: number): Promise<BenchOrg> {
  const org = await setUpOrg(baseUrl, rootToken, name, owners);
  return settings.caller === 'root' ? { ...org, auth: bearer(rootToken) } : org;
}

const verifyOk = (status: number, body: string): Outcome => (status === 200 && body.includes('"valid":true') ? 'ok' : 'error');

/** A measured load against one server, after a short warm-up with the same settings. */
async function measure(
  server: ServerProcess,
  spec: Omit<LoadSpec, 'baseUrl' | 'connections' | 'durationSeconds'> & { connections?: number; durationSeconds?: number },
  options: { warmup?: boolean; note?: string } = {},
): Promise<{ result: LoadResult; report: ScenarioReport }> {
  const full: LoadSpec = {
    baseUrl: server.url,
    connections: settings.connections,
    durationSeconds: settings.durationSeconds,
    ...spec,
  };
  if (options.warmup !== false && spec.amount === undefined) {
    await runLoad({ ...full, title: `${spec.title} warm-up`, durationSeconds: settings.warmupSeconds });
  }
  server.resetWindow();
  const result = await runLoad(full);
  const report = fromLoad(result, {
    peakRssMb: server.windowPeakMb(),
    connections: full.connections,
    server: server.name,
    ...(options.note ? { note: options.note } : {}),
  });
  log(`${spec.title}: ${report.rps} req/s ok, p50 ${report.p50_ms} ms, p99 ${report.p99_ms} ms, ${report.errors} errors, statuses ${JSON.stringify(result.statuses)}`);
  if (result.firstError) log(`${spec.title}: first unexpected answer: ${result.firstError}`);
  return { result, report };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

async function main(): Promise<number> {
  const databaseUrl = process.env.DATABASE_URL;
  const store: Store = { kind: databaseUrl ? 'postgres' : 'pglite', dataDir: join(runDir, 'data') };
  let storeLabel = 'embedded PGlite';
  if (databaseUrl) {
    const latchkeyDb = await ScratchDatabase.create(databaseUrl, 'latchkey_bench');
    databases.push(latchkeyDb);
    const peerDb = await ScratchDatabase.create(databaseUrl, 'latchkey_bench_peer');
    databases.push(peerDb);
    store.databaseUrl = latchkeyDb.url;
    store.peerDatabaseUrl = peerDb.url;
    storeLabel = `${await serverVersion(databaseUrl)}, scratch databases ${latchkeyDb.name} and ${peerDb.name}`;
  }
  log(`${quick ? 'quick' : 'full'} run on ${storeLabel}; Latchkey as \`${command.label}\`; ${settings.connections} connections, ${settings.durationSeconds}s per scenario; LOG_LEVEL=${settings.logLevel}; caller ${settings.caller}`);
  const [load1] = loadavg();
  if (load1! > availableParallelism() / 2) log(`warning: load average ${load1!.toFixed(2)} on ${availableParallelism()} CPUs: other work is running, numbers will be noisy`);

  const startLoad = loadavg().map((v) => Math.round(v * 100) / 100);
  const report: Report = {
    store: store.kind,
    node: process.version,
    cpus: availableParallelism(),
    mode: quick ? 'quick' : 'full',
    started_at: new Date().toISOString(),
    settings: { ...settings, latchkey_command: command.label, load_generator: 'autocannon (in the runner process), pipelining 1' },
    scenarios: {},
    ratios: { verify_cached_vs_baseline: null, verify_cached_vs_peer: null, verify_cached_during_attack_vs_before: null },
    processes: {},
  };
  const s = report.scenarios;

  // Synthetic verification bodies of the real shape, for the ceiling: same request bytes, no work.
  const syntheticBodies = Array.from({ length: settings.cachedKeys }, (_, i) =>
    verifyBody({ id: `BENCH${String(i).padStart(11, '0')}`, secret: generateSecret(SecretPrefix.apiKey) }, 'lkc-bench00000'),
  );

  // The ceiling is measured right before verify_cached (the machine's load drifts), by a process
  // started up front: idle, it costs nothing.
  const baseline = only.has('baseline') ? await startHelper('baseline', 'baseline.ts', {}) : undefined;
  const measureBaseline = async () => {
    if (!baseline?.alive) return;
    const { report: r } = await measure(baseline, {
      title: 'baseline',
      method: 'POST',
      paths: ['/v1/verify/api-key'],
      bodies: syntheticBodies,
      classify: verifyOk,
    }, { note: 'bare Fastify: parses the same verify request, answers a fixed small JSON body' });
    s.baseline = r;
    await stopServer(baseline);
  };
  if (!only.has('verify_cached')) await measureBaseline();

  const needsLatchkey = [...only].some((g) => g !== 'baseline' && g !== 'peer_verify');
  let org: BenchOrg | undefined;
  let cachedKeys: CreatedKey[] = [];
  let attackTargets: CreatedKey[] = [];
  if (needsLatchkey) {
    // verify_access_key_filter: a local HTTPS remote whose self-signed certificate Latchkey trusts
    // the production way, through NODE_EXTRA_CA_CERTS, and whose host:port is allow-listed.
    let keyFilterOrigin: string | undefined;
    const filterEnv: Record<string, string> = {};
    if (only.has('verify_access_key_filter')) {
      const certFile = join(runDir, 'key-filter-cert.pem');
      const keyFile = join(runDir, 'key-filter-key.pem');
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
      const filterPort = await freePort();
      keyFilterOrigin = `127.0.0.1:${filterPort}`;
      await startHelper('key-filter', 'key-filter.ts', { KEY_FILTER_PORT: String(filterPort), KEY_FILTER_CERT: certFile, KEY_FILTER_KEY: keyFile });
      Object.assign(filterEnv, { NODE_EXTRA_CA_CERTS: certFile, LATCHKEY_KEY_FILTER_ALLOWED_HOSTS: keyFilterOrigin });
    }
    const a = await startLatchkey('latchkey-a', store, 1_000_000, filterEnv);
    org = await setUpBenchOrg(a.url, `bench-${Date.now().toString(36)}`, settings.owners);
    log(`organization ${org.orgId}: resource ${org.resourceId}, ${org.ownerIds.length} key owners, caller ${org.callerId} (OrganizationAdmin + Verifier, cloud key ${org.callerKey.id})`);
    const verifyAs = { authorization: org.auth };
    const resourceId = org.resourceId;

    // create_key first: the keys it creates are the cold set (never verified yet).
    let coldPool: CreatedKey[] = [];
    if (only.has('create_key')) {
      const fresh: CreatedKey[] = [];
      const createSpec = (title: string, owners: number) => ({
        title,
        method: 'POST' as const,
        headers: verifyAs,
        paths: [`/v1/orgs/${org!.orgId}/api-keys`],
        bodies: createKeyBodies(org!, title, owners),
        classify: (status: number, body: string): Outcome => {
          if (status !== 201) return 'error';
          const key = JSON.parse(body) as CreatedKey;
          fresh.push({ id: key.id, secret: key.secret });
          return 'ok';
        },
      });
      s.create_key = (await measure(a, createSpec('create_key', settings.owners), {
        note: `resource keys for ${settings.owners} service accounts in turn`,
      })).report;
      // Creation is serialized per owner (quota check under a row lock): one owner is the worst case.
      s.create_key_one_owner = (await measure(a, createSpec('create_key_one_owner', 1), {
        note: 'all creates for one service account (informational)',
      })).report;
      coldPool = fresh;
    }

    if (only.has('verify_cached') || only.has('verify_invalid') || only.has('verify_metrics')) {
      log(`seeding ${settings.cachedKeys} keys for verify_cached`);
      cachedKeys = (await seedKeys(a.url, org, settings.cachedKeys, { capture: true, label: 'bench-cached' })).keys;
    }
    if (only.has('verify_invalid')) {
      log(`seeding ${settings.invalidKeys} keys whose ids verify_invalid attacks`);
      attackTargets = (await seedKeys(a.url, org, settings.invalidKeys, { capture: true, label: 'bench-attacked' })).keys;
    }
    if (only.has('verify_cached')) {
      log('verifying each of them once (cache misses) so that the scenario measures hits');
      await warmCache(a.url, org.auth, cachedKeys, resourceId);
      await measureBaseline();
      const { report: r } = await measure(a, {
        title: 'verify_cached',
        method: 'POST',
        headers: verifyAs,
        paths: ['/v1/verify/api-key'],
        bodies: cachedKeys.map((key) => verifyBody(key, resourceId)),
        classify: verifyOk,
      }, { note: `${cachedKeys.length} distinct keys, each verified once before` });
      s.verify_cached = r;
    }

    if (only.has('verify_access_key_cached') || only.has('verify_access_key_filter')) {
      const clusterId = await createFluvioCluster(a.url, rootToken, org);
      const warm = async (bodies: string[]) => {
        const answers = await mapLimit(bodies, 8, (body) => call<{ valid: boolean; code: string }>(a.url, 'POST', '/v1/verify/access-key', verifyAs.authorization, JSON.parse(body)));
        const bad = answers.filter((answer) => !answer.valid);
        if (bad.length > 0) throw new Error(`${bad.length} of ${bodies.length} access keys did not verify (first: ${bad[0]!.code})`);
      };
      if (only.has('verify_access_key_cached')) {
        log(`seeding ${settings.accessKeys} access keys for verify_access_key_cached`);
        const keys = await seedAccessKeys(a.url, org, clusterId, settings.accessKeys, 'bench-cached');
        const bodies = keys.map((key) => verifyAccessKeyBody(key, clusterId));
        await warm(bodies);
        s.verify_access_key_cached = (await measure(a, {
          title: 'verify_access_key_cached',
          method: 'POST',
          headers: verifyAs,
          paths: ['/v1/verify/access-key'],
          bodies,
          classify: verifyOk,
        }, { note: `${keys.length} distinct access keys, each verified once before` })).report;
      }
      if (only.has('verify_access_key_filter') && keyFilterOrigin) {
        log(`seeding ${settings.accessKeys} access keys with a remote key filter on ${keyFilterOrigin}`);
        const keys = await seedAccessKeys(a.url, org, clusterId, settings.accessKeys, 'bench-filter', `tenant:https://${keyFilterOrigin}/filter`);
        const bodies = keys.map((key, i) => verifyAccessKeyBody(key, clusterId, { tenant: `t${i % 100}` }));
        await warm(bodies);
        s.verify_access_key_filter = (await measure(a, {
          title: 'verify_access_key_filter',
          method: 'POST',
          headers: verifyAs,
          paths: ['/v1/verify/access-key'],
          bodies,
          classify: (status, body) => (status === 200 && body.includes('"key_filter":"tenant=') ? 'ok' : 'error'),
        }, { note: `${keys.length} access keys (hash checks cached), each consume POSTs to a local HTTPS filter answering in ~1 ms (LATCHKEY_KEY_FILTER_CACHE_SECONDS=0)` })).report;
      }
    }

    if (only.has('verify_cold')) {
      const want = settings.coldKeysMin + 2 * settings.connections;
      if (coldPool.length < want) {
        log(`seeding ${want - coldPool.length} more never-verified keys for verify_cold`);
        coldPool = coldPool.concat((await seedKeys(a.url, org, want - coldPool.length, { capture: true, label: 'bench-cold' })).keys);
      }
      // Never send one key twice: autocannon builds a request per connection ahead of sending.
      const amount = coldPool.length - 2 * settings.connections;
      let stopHealth: () => void = () => {};
      const healthStop = new Promise<void>((resolveStop) => (stopHealth = resolveStop));
      a.resetWindow();
      const healthRun = runLoad({
        title: 'healthz_during_cold',
        baseUrl: a.url,
        method: 'GET',
        paths: ['/healthz'],
        connections: settings.healthzConnections,
        overallRate: settings.healthzRate,
        durationSeconds: settings.durationSeconds * 3 + 5,
        until: healthStop,
        classify: (status) => (status === 200 ? 'ok' : 'error'),
      });
      const cold = await measure(a, {
        title: 'verify_cold',
        method: 'POST',
        headers: verifyAs,
        paths: ['/v1/verify/api-key'],
        bodies: coldPool.map((key) => verifyBody(key, resourceId)),
        amount,
        classify: (status, body) => (status === 503 ? 'intended' : verifyOk(status, body)),
      }, { warmup: false, note: `${amount} never-verified keys, each sent once (one argon2id verify each)` });
      stopHealth();
      const health = await healthRun;
      s.verify_cold = cold.report;
      s.healthz_during_cold = fromLoad(health, {
        peakRssMb: a.windowPeakMb(),
        connections: settings.healthzConnections,
        server: a.name,
        note: `GET /healthz at ${settings.healthzRate} req/s alongside verify_cold`,
      });
      s.healthz_during_cold.rps = Math.round(health.rps * 10) / 10;
      log(`healthz_during_cold: p50 ${health.p50_ms} ms, p99 ${health.p99_ms} ms, max ${health.max_ms} ms`);
    }

    if (only.has('verify_cluster_key_cached') || only.has('verify_cluster_key_cold')) {
      // Cluster keys are JWTs: a miss is one signature check (RS256) and one row read, no argon2.
      const pulsarId = await setUpPulsarCluster(a.url, org);
      const clusterSpec = (title: string, tokens: string[]) => ({
        title,
        method: 'POST' as const,
        headers: verifyAs,
        paths: ['/v1/verify/cluster-key'],
        bodies: tokens.map((token) => verifyClusterKeyBody(token, pulsarId)),
      });
      if (only.has('verify_cluster_key_cached')) {
        log(`seeding ${settings.cachedKeys} cluster keys for verify_cluster_key_cached`);
        const tokens = await seedClusterKeys(a.url, org, pulsarId, settings.cachedKeys, 'bench-ck-cached');
        await runLoad({ ...clusterSpec('verify_cluster_key_cached warm cache', tokens), baseUrl: a.url, connections: 8, durationSeconds: 60, amount: tokens.length, classify: verifyOk });
        s.verify_cluster_key_cached = (await measure(a, { ...clusterSpec('verify_cluster_key_cached', tokens), classify: verifyOk }, {
          note: `${tokens.length} distinct RS256 cluster keys, each verified once before`,
        })).report;
      }
      if (only.has('verify_cluster_key_cold')) {
        const count = settings.coldKeysMin + 2 * settings.connections;
        log(`seeding ${count} never-verified cluster keys for verify_cluster_key_cold`);
        const tokens = await seedClusterKeys(a.url, org, pulsarId, count, 'bench-ck-cold');
        const amount = tokens.length - 2 * settings.connections;
        s.verify_cluster_key_cold = (await measure(a, { ...clusterSpec('verify_cluster_key_cold', tokens), amount, classify: verifyOk }, {
          warmup: false,
          note: `${amount} never-verified RS256 cluster keys, each sent once (one signature check each)`,
        })).report;
      }
    }

    if (only.has('list_keys')) {
      let listSeedNote = '';
      const listOrg = await setUpBenchOrg(a.url, `bench-list-${Date.now().toString(36)}`, settings.listOwners);
      const elapsed = (performance.now() - t0) / 1000;
      const budget = quick ? Math.round(Math.min(90, Math.max(20, settings.quickTotalSeconds - settings.quickTailSeconds - elapsed))) : undefined;
      log(`seeding ${settings.listKeys} keys into ${listOrg.orgId} for list_keys${quick ? ` (--quick: 10,000 instead of 100,000, at most ${budget}s of seeding)` : ''}`);
      const seedStart = performance.now();
      const { created } = await seedKeys(a.url, listOrg, settings.listKeys, {
        capture: false,
        label: 'bench-list',
        ...(budget !== undefined ? { budgetSeconds: budget } : {}),
      });
      const seedSeconds = (performance.now() - seedStart) / 1000;
      listSeedNote = `seeded ${created} keys in ${seedSeconds.toFixed(0)} s (${(created / seedSeconds).toFixed(0)} keys/s through the API)`;
      if (created < settings.listKeys) listSeedNote += `: the --quick seeding budget ran out before ${settings.listKeys}`;
      log(listSeedNote);
      // Walk every page once: proves the org holds the keys and yields page tokens at every depth.
      const base = `/v1/orgs/${listOrg.orgId}/api-keys?page_size=100`;
      const tokens: string[] = [];
      let listed = 0;
      let token: string | null = null;
      for (let page = 0; page < settings.listKeys / 100 + 5; page++) {
        const answer: { data: unknown[]; next_page_token: string | null } = await call(a.url, 'GET', token ? `${base}&page_token=${encodeURIComponent(token)}` : base, listOrg.auth);
        listed += answer.data.length;
        token = answer.next_page_token;
        if (!token) break;
        tokens.push(token);
      }
      log(`listed ${listed} keys in ${tokens.length + 1} pages`);
      const step = Math.max(1, Math.floor(tokens.length / 50));
      const paths = [base, ...tokens.filter((_, i) => i % step === 0).map((t) => `${base}&page_token=${encodeURIComponent(t)}`)];
      const listSpec = (title: string) => ({
        title,
        method: 'GET' as const,
        headers: { authorization: listOrg.auth },
        paths,
        classify: (status: number): Outcome => (status === 200 ? 'ok' : 'error'),
      });
      // The target is the latency of a page at 100,000 keys: one connection, no queueing. At 50
      // connections p50 is queueing (50 / throughput, Little's law), reported separately.
      const pagesNote = `one connection; ${listed} keys in the organization${quick ? ' (--quick: not 100,000)' : ''}; ${paths.length} different pages of 100`;
      let analyzed = '';
      if (store.databaseUrl && !(await autovacuumIsOn(store.databaseUrl))) {
        // Kept for the record: the same pages while the table has never been analyzed.
        s.list_keys_no_statistics = (await measure(a, { ...listSpec('list_keys_no_statistics'), connections: 1 }, {
          note: `${pagesNote}; the table never analyzed (autovacuum off): informational`,
        })).report;
        await analyze(store.databaseUrl);
        analyzed = '; autovacuum is off on this server, so the runner ran ANALYZE after seeding, as autovacuum would have';
        log(analyzed.slice(2));
      }
      const single = await measure(a, { ...listSpec('list_keys'), connections: 1 }, {
        note: `${pagesNote}; ${listSeedNote}${analyzed}`,
      });
      s.list_keys = { ...single.report, keys: listed };
      const loaded = await measure(a, listSpec('list_keys_50c'), { warmup: false, note: `the same pages at ${settings.connections} connections: throughput (informational)` });
      s.list_keys_50c = { ...loaded.report, keys: listed };
    }

    // kdb Insights: enrolment (key generation, signing, one argon2 hash, a transaction) and cached details.
    if (only.has('enrol') || only.has('details')) {
      const kxi = await call<{ id: string }>(a.url, 'POST', `/v1/orgs/${org.orgId}/resources`, org.auth, {
        kind: 'kdb_insights',
        display_name: 'bench-kxi',
        environment_id: org.environmentId,
      });
      const clientIds: string[] = [];
      const enrolSpec = (title: string, names: number) => ({
        title,
        method: 'POST' as const,
        headers: { authorization: org!.auth, 'content-type': 'application/json' },
        paths: [`/clientcontroller/enrol?resource_id=${kxi.id}`],
        // Every request a new name: a repeated one is 409 (force would also revoke, a different workload).
        bodies: Array.from({ length: names }, (_, i) => JSON.stringify({ name: `${title}-${i}`, topics: { insert: 'data', query: 'requests' } })),
        classify: (status: number, body: string): Outcome => {
          if (status !== 200) return 'error';
          if (clientIds.length < 1000) clientIds.push((JSON.parse(body) as { url: string }).url);
          return 'ok';
        },
      });
      if (only.has('enrol')) {
        s.enrol = (await measure(a, enrolSpec('enrol', 200_000), { warmup: false, note: 'POST /clientcontroller/enrol, a new client name each time (no warm-up: it would use the same names)' })).report;
      } else {
        await runLoad({ ...enrolSpec('enrol-seed', 200), baseUrl: a.url, connections: 10, durationSeconds: 60, amount: 200 });
      }
      if (only.has('details')) {
        const ids = clientIds.slice(0, 200);
        s.details = (await measure(a, {
          title: 'details',
          method: 'GET',
          paths: ids.map((id) => `/informationservice/details/${id}`),
          classify: (status: number) => (status === 200 ? 'ok' : 'error'),
        }, { note: `GET /informationservice/details for ${ids.length} clients in turn (cached after the warm-up)` })).report;
      }
    }

    if (only.has('revocation_propagation')) {
      if (store.kind !== 'postgres') {
        s.revocation_propagation = {
          rps: null, p50_ms: null, p99_ms: null, max_ms: null, errors: 0, peak_rss_mb: null,
          skipped: 'needs two Latchkey processes on one Postgres; the embedded store is single-process (set DATABASE_URL)',
        };
        log('revocation_propagation skipped: embedded store');
      } else {
        s.revocation_propagation = await measurePropagation(a, store, org);
      }
    }

    await stopServer(a);
  }

  if (only.has('peer_verify')) {
    const peer = await startHelper('peer', 'peer.ts', {
      ...(store.peerDatabaseUrl ? { PEER_DATABASE_URL: store.peerDatabaseUrl } : { PEER_SQLITE_PATH: join(runDir, 'peer.sqlite') }),
    });
    const seeded = await fetch(`${peer.url}/seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ count: settings.peerKeys }),
      signal: AbortSignal.timeout(300_000),
    });
    if (!seeded.ok) throw new Error(`peer seeding answered ${seeded.status}: ${await seeded.text()}`);
    const { keys } = (await seeded.json()) as { keys: string[] };
    const { report: r } = await measure(peer, {
      title: 'peer_verify',
      method: 'POST',
      paths: ['/verify'],
      bodies: keys.map((key) => JSON.stringify({ key })),
      classify: verifyOk,
    }, { note: `better-auth ${betterAuthVersion()} API key plugin on ${store.kind === 'postgres' ? 'Postgres (pg Pool)' : 'SQLite (libsql)'}, ${keys.length} keys, rate limit off` });
    s.peer_verify = r;
    await stopServer(peer);
  }

  if (only.has('verify_invalid') && org) {
    await measureAttack(store, org, cachedKeys, attackTargets, report);
  }
  if (only.has('verify_metrics') && org) {
    await measureMetricsOverhead(store, org, cachedKeys, report);
  }

  report.ratios.verify_cached_vs_baseline = ratio(s.verify_cached?.rps, s.baseline?.rps);
  report.ratios.verify_cluster_key_cached_vs_verify_cached = ratio(s.verify_cluster_key_cached?.rps, s.verify_cached?.rps);
  report.ratios.verify_cached_vs_peer = ratio(s.verify_cached?.rps, s.peer_verify?.rps);
  report.ratios.verify_cached_during_attack_vs_before = ratio(s.verify_cached_during_attack?.rps, s.verify_cached_before_attack?.rps);
  report.ratios.verify_access_key_cached_vs_verify_cached = ratio(s.verify_access_key_cached?.rps, s.verify_cached?.rps);
  report.load_average = { at_start: startLoad, at_end: loadavg().map((v) => Math.round(v * 100) / 100) };
  report.processes = Object.fromEntries(Object.entries(processPeaks).map(([name, peak]) => [name, { peak_rss_mb: peak }]));
  const checks = evaluateTargets(report);
  report.checks = checks;

  mkdirSync(RESULTS, { recursive: true });
  const out = args.out ? resolve(args.out) : join(RESULTS, 'latest.json');
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

  process.stdout.write(`\nLatchkey benchmark (${report.mode}${quick ? ': shorter runs, 10,000-key list' : ''}) on ${storeLabel}, node ${report.node}, ${report.cpus} CPUs\n\n`);
  process.stdout.write(`${renderTable(report)}\n\n`);
  process.stdout.write(`targets (issue 4)${args.check ? '' : ', informational without --check'}:\n${renderChecks(checks)}\n\n`);
  process.stdout.write(`results written to ${out}\n`);
  const missed = checks.filter((c) => !c.ok);
  if (args.check && missed.length > 0) {
    process.stdout.write(`\n--check: ${missed.length} target(s) missed:\n${renderChecks(missed)}\n`);
    return 1;
  }
  return 0;
}

function betterAuthVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(REPO, 'node_modules', 'better-auth', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

/** Deletes keys through replica A and polls replica B until each stops verifying. */
async function measurePropagation(a: ServerProcess, store: Store, org: BenchOrg): Promise<ScenarioReport> {
  const POLL_LIMIT_MS = 5_000;
  log(`seeding ${settings.propagationKeys} keys for revocation_propagation`);
  const { keys } = await seedKeys(a.url, org, settings.propagationKeys, { capture: true, label: 'bench-revoked' });
  const b = await startLatchkey('latchkey-b', store, 1_000_000);
  try {
    await warmCache(b.url, org.auth, keys, org.resourceId);
    b.resetWindow();
    const delays: number[] = [];
    let neverStopped = 0;
    for (const key of keys) {
      const deleted = await fetch(`${a.url}/v1/orgs/${org.orgId}/api-keys/${key.id}`, {
        method: 'DELETE',
        headers: { authorization: org.auth },
        signal: AbortSignal.timeout(10_000),
      });
      if (deleted.status !== 204) throw new Error(`DELETE ${key.id} through latchkey-a answered ${deleted.status}: ${await deleted.text()}`);
      const acknowledged = performance.now();
      let delay: number | undefined;
      while (performance.now() - acknowledged < POLL_LIMIT_MS) {
        const answer = await verifyOnceRaw(b.url, org.auth, key, org.resourceId);
        if (!answer) {
          delay = performance.now() - acknowledged;
          break;
        }
      }
      if (delay === undefined) neverStopped++;
      delays.push(delay ?? POLL_LIMIT_MS);
    }
    delays.sort((x, y) => x - y);
    const r2 = (v: number) => Math.round(v * 100) / 100;
    const result: ScenarioReport = {
      rps: null,
      p50_ms: r2(percentile(delays, 50)),
      p99_ms: r2(percentile(delays, 99)),
      max_ms: r2(delays[delays.length - 1]!),
      errors: neverStopped,
      peak_rss_mb: Math.round(b.windowPeakMb() * 10) / 10,
      responses: delays.length,
      server: 'latchkey-a → latchkey-b',
      note: `${delays.length} keys cached on B, each deleted through A; delay from A's 204 to B's first non-valid answer (polled back to back)`,
    };
    log(`revocation_propagation: p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, max ${result.max_ms} ms, ${neverStopped} keys still valid after ${POLL_LIMIT_MS} ms`);
    return result;
  } finally {
    await stopServer(b);
  }
}

/** true while the key still verifies; false once B answers anything else with 200. */
async function verifyOnceRaw(baseUrl: string, auth: string, key: CreatedKey, resourceId: string): Promise<boolean> {
  const response = await fetch(`${baseUrl}/v1/verify/api-key`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: verifyBody(key, resourceId),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`verify on ${baseUrl} answered ${response.status}: ${text.slice(0, 300)}`);
  return text.includes('"valid":true');
}

/**
 * verify_cached on two restarts on the same store, without and with LATCHKEY_METRICS_PORT, one
 * after the other: the cost of metrics on the hot path is their ratio (issue 13: at most 5%).
 */
async function measureMetricsOverhead(store: Store, org: BenchOrg, cachedKeys: CreatedKey[], report: Report): Promise<void> {
  const s = report.scenarios;
  const spec = {
    method: 'POST' as const,
    headers: { authorization: org.auth },
    paths: ['/v1/verify/api-key'],
    bodies: cachedKeys.map((key) => verifyBody(key, org.resourceId)),
    classify: verifyOk,
  };
  const metricsPort = await freePort();
  for (const [title, env] of [
    ['verify_metrics_off', {}],
    ['verify_metrics_on', { LATCHKEY_METRICS_PORT: String(metricsPort) }],
  ] as const) {
    const server = await startLatchkey(`latchkey-${title.replaceAll('_', '-')}`, store, 1_000_000, env);
    try {
      await warmCache(server.url, org.auth, cachedKeys, org.resourceId);
      s[title] = (await measure(server, { title, ...spec }, { note: `verify_cached on a restart ${title.endsWith('on') ? 'with' : 'without'} LATCHKEY_METRICS_PORT` })).report;
      if (title.endsWith('on')) {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
        const valid = /^latchkey_verifications_total\{kind="api_key",code="VALID"\} (\d+)/m.exec(text)?.[1];
        log(`verify_metrics_on: the metrics listener counted ${valid ?? 'no'} VALID api_key verifications`);
      }
    } finally {
      await stopServer(server);
    }
  }
  report.ratios.verify_metrics_on_vs_off = ratio(s.verify_metrics_on?.rps, s.verify_metrics_off?.rps);
}

/**
 * verify_invalid on a Latchkey with the default failure limit (a restart on the same store):
 * cached verifications alone, wrong secrets alone, then both at once.
 */
async function measureAttack(store: Store, org: BenchOrg, cachedKeys: CreatedKey[], targets: CreatedKey[], report: Report): Promise<void> {
  const s = report.scenarios;
  const c = await startLatchkey('latchkey-c', store, undefined);
  try {
    const resourceId = org.resourceId;
    const headers = { authorization: org.auth };
    log(`latchkey-c runs with the default LATCHKEY_AUTH_FAILURES_PER_MINUTE; re-verifying ${cachedKeys.length} keys to fill its cache`);
    await warmCache(c.url, org.auth, cachedKeys, resourceId);
    const cachedSpec = {
      method: 'POST' as const,
      headers,
      paths: ['/v1/verify/api-key'],
      bodies: cachedKeys.map((key) => verifyBody(key, resourceId)),
      classify: verifyOk,
    };
    // Wrong but well-formed secrets (valid checksum), four per attacked key id: what a guesser sends.
    const attackBodies = targets.flatMap((key) =>
      Array.from({ length: 4 }, () => verifyBody({ id: key.id, secret: generateSecret(SecretPrefix.apiKey) }, resourceId)),
    );
    const attackSpec = {
      method: 'POST' as const,
      headers,
      paths: ['/v1/verify/api-key'],
      bodies: attackBodies,
      classify: (status: number, body: string): Outcome =>
        status === 429 ? 'intended' : status === 200 && body.includes('"valid":false') ? 'ok' : 'error',
    };
    const before = await measure(c, { title: 'verify_cached_before_attack', ...cachedSpec }, { note: 'verify_cached again, on a replica with the default failure limit' });
    s.verify_cached_before_attack = before.report;
    const alone = await measure(c, { title: 'verify_invalid', ...attackSpec }, {
      warmup: false,
      note: `wrong secrets for ${targets.length} valid key ids; req/s counts INVALID and 429 answers`,
    });
    s.verify_invalid = { ...alone.report, rps: Math.round(alone.result.responsesPerSecond * 10) / 10 };

    c.resetWindow();
    const [cachedRun, attackRun] = await Promise.all([
      runLoad({ title: 'verify_cached_during_attack', baseUrl: c.url, connections: settings.connections, durationSeconds: settings.durationSeconds, ...cachedSpec }),
      runLoad({ title: 'verify_invalid_during_attack', baseUrl: c.url, connections: settings.connections, durationSeconds: settings.durationSeconds, ...attackSpec }),
    ]);
    const peak = c.windowPeakMb();
    s.verify_cached_during_attack = fromLoad(cachedRun, { peakRssMb: peak, connections: settings.connections, server: c.name, note: 'cached verifications while verify_invalid runs on the same replica, both from 127.0.0.1' });
    s.verify_invalid_during_attack = {
      ...fromLoad(attackRun, { peakRssMb: peak, connections: settings.connections, server: c.name }),
      rps: Math.round(attackRun.responsesPerSecond * 10) / 10,
    };
    log(`verify_cached_during_attack: ${s.verify_cached_during_attack.rps} req/s (before: ${before.report.rps}), p99 ${s.verify_cached_during_attack.p99_ms} ms, statuses ${JSON.stringify(cachedRun.statuses)}`);
    log(`verify_invalid_during_attack: ${s.verify_invalid_during_attack.rps} answers/s, statuses ${JSON.stringify(attackRun.statuses)}`);
  } finally {
    await stopServer(c);
  }
}

main()
  .then(async (code) => {
    await cleanUp(args.keep);
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    process.stderr.write(`\nbench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    await cleanUp(true);
    process.exit(1);
  });
