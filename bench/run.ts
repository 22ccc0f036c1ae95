/**
 * `npm run bench [-- --quick] [-- --check]`: starts Latchkey as a separate process (Postgres when
 * DATABASE_URL is set, otherwise the embedded store), seeds it through the public API, drives it
 * with autocannon over 127.0.0.1 and compares it with a bare Fastify ceiling and with
 * better-auth's API key plugin. The scenarios live in bench/scenarios/; this runner selects them,
 * runs them in order, evaluates their targets and writes the results. See bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Context, RESULTS, type Settings } from './lib/context.js';
import { allowSlowCalls } from './lib/latchkey.js';
import { killAllNow } from './lib/processes.js';
import { evaluateTargets, type Report, ratio, renderChecks, renderTable } from './lib/report.js';
import type { Target } from './lib/scenario.js';
import { SCENARIOS } from './scenarios/index.js';

/** Targets over the whole run rather than one scenario. */
const RUN_TARGETS: Target[] = [
  {
    target: 'server peak RSS ≤ 300 MB',
    evaluate: (report) => {
      const peaks = Object.entries(report.processes).filter(([name]) => name.startsWith('latchkey'));
      if (peaks.length === 0) return undefined;
      const [name, worst] = peaks.reduce((a, b) => (b[1].peak_rss_mb > a[1].peak_rss_mb ? b : a));
      return { ok: worst.peak_rss_mb <= 300, detail: `${worst.peak_rss_mb} MB (${name}, VmHWM)` };
    },
  },
];

const NAMES = SCENARIOS.map((scenario) => scenario.name);

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    check: { type: 'boolean', default: false },
    only: { type: 'string' },
    replicas: { type: 'string', default: '1' },
    'log-level': { type: 'string', default: 'warn' },
    'cpu-prof': { type: 'boolean', default: false },
    connections: { type: 'string' },
    caller: { type: 'string', default: 'cloud-key' },
    keep: { type: 'boolean', default: false },
    tsx: { type: 'boolean', default: false },
    callgrind: { type: 'boolean', default: false },
    set: { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  process.stdout.write(
    `npm run bench -- [--quick] [--check] [--only ${NAMES.join(',')}] [--replicas N] [--caller cloud-key|root] [--set LATCHKEY_X=value]... [--tsx] [--callgrind] [--log-level warn] [--cpu-prof] [--connections 50] [--keep] [--out file] [--list]\n`,
  );
  process.exit(0);
}

/** --list: the scenarios, what each measures and its targets, as the Markdown table of bench/README.md. */
if (args.list) {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = SCENARIOS.map((scenario) => {
    const names = [scenario.name, ...(scenario.alsoWrites ?? [])].map((name) => `\`${name}\``).join(', ');
    const targets = scenario.targets.length === 0 ? 'informational' : scenario.targets.map((target) => target.target).join('; ');
    return `| ${names} | ${cell(scenario.measures)} | ${cell(targets)} |`;
  });
  const run = `| (every Latchkey process) | peak RSS (VmHWM) | ${RUN_TARGETS.map((target) => target.target).join('; ')} |`;
  process.stdout.write(
    `${['| scenario (`--only`) and its results | what it measures | target (`--check`) |', '| --- | --- | --- |', ...rows, run].join('\n')}\n`,
  );
  process.exit(0);
}

const quick = args.quick;
const caller = args.caller;
if (caller !== 'cloud-key' && caller !== 'root') throw new Error('--caller is cloud-key or root');
const replicas = Number(args.replicas);
if (!Number.isInteger(replicas) || replicas < 1) throw new Error(`--replicas ${args.replicas}: expected a whole number ≥ 1`);
const databaseUrl = process.env.DATABASE_URL;
if (args.callgrind && args.check) {
  process.stderr.write("--check and --callgrind do not go together: under valgrind req/s, latency and memory are not the service's own\n");
  process.exit(2);
}
if (replicas > 1 && !databaseUrl) {
  process.stderr.write(
    `--replicas ${replicas} needs Postgres (set DATABASE_URL): the embedded store is single-process by design (one process holds the lock on its data directory)\n`,
  );
  process.exit(2);
}

/**
 * --callgrind: servers run under valgrind (about fifty times slower), so loads are fewer
 * connections over fewer keys, with a longer warm-up for the JIT; only instruction counts mean
 * anything then, and req/s and latencies do not.
 */
const callgrind = args.callgrind;
if (callgrind) allowSlowCalls();
const settings: Settings = {
  quick,
  connections: Number(args.connections ?? (callgrind ? 4 : 50)),
  durationSeconds: callgrind ? 20 : quick ? 5 : 15,
  warmupSeconds: callgrind ? 120 : quick ? 1 : 3,
  cachedKeys: callgrind ? 20 : quick ? 1000 : 2000,
  invalidKeys: quick ? 200 : 500,
  coldKeysMin: quick ? 1500 : 5000,
  listKeys: quick ? 10_000 : 100_000,
  quickTotalSeconds: 165,
  quickTailSeconds: 55,
  propagationKeys: quick ? 50 : 200,
  owners: 20,
  listOwners: 200,
  peerKeys: quick ? 1000 : 2000,
  accessKeys: callgrind ? 20 : quick ? 300 : 1000,
  healthzConnections: 2,
  healthzRate: 100,
  replicas,
  replicaRevocationKeys: quick ? 20 : 100,
  batchSize: 100,
  logLevel: args['log-level'],
  caller,
  latchkeyEnv: Object.fromEntries(
    (args.set ?? []).map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 1) throw new Error(`--set ${pair}: expected NAME=value`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  ),
};

const only = new Set(args.only?.split(',').map((name) => name.trim()) ?? NAMES);
for (const name of only) if (!NAMES.includes(name)) throw new Error(`--only: unknown scenario ${name}; known: ${NAMES.join(', ')}`);
const selected = SCENARIOS.filter((scenario) => only.has(scenario.name));

const ctx = new Context(settings, { selected: only, cpuProf: args['cpu-prof'], tsx: args.tsx, keep: args.keep, callgrind });

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    ctx.log(`${signal}: stopping servers and dropping scratch databases`);
    void ctx.cleanUp(args.keep).finally(() => process.exit(130));
  });
}

const usesPrimary = (scenario: (typeof SCENARIOS)[number]) => scenario.server === 'primary' || scenario.seed !== undefined;
const rounded = (values: number[]) => values.map((v) => Math.round(v * 100) / 100);

async function main(): Promise<number> {
  const store = await ctx.openStore(databaseUrl);
  const needsLatchkey = selected.some((scenario) => scenario.server !== 'none');
  const command = needsLatchkey ? ctx.command.label : '(not started)';
  ctx.log(
    `${quick ? 'quick' : 'full'} run on ${store.label}; Latchkey as \`${command}\`${replicas > 1 ? `, ${replicas} replicas` : ''}; ${settings.connections} connections, ${settings.durationSeconds}s per scenario${callgrind ? ', servers under callgrind' : ''}; LOG_LEVEL=${settings.logLevel}; caller ${settings.caller}`,
  );
  const [load1] = loadavg();
  if (load1! > availableParallelism() / 2)
    ctx.log(`warning: load average ${load1!.toFixed(2)} on ${availableParallelism()} CPUs: other work is running, numbers will be noisy`);

  const report: Report = {
    store: store.kind,
    node: process.version,
    cpus: availableParallelism(),
    mode: quick ? 'quick' : 'full',
    started_at: new Date().toISOString(),
    settings: {
      ...settings,
      latchkey_command: command,
      load_generator: 'autocannon (in the runner process), pipelining 1',
      ...(callgrind ? { servers_under: 'valgrind --tool=callgrind, instrumented during measured loads only' } : {}),
    },
    scenarios: {},
    ratios: {},
    processes: {},
  };
  ctx.report = report;
  const startLoad = rounded(loadavg());

  for (const scenario of selected) if (scenario.prepare) ctx.addPrimaryEnv(await scenario.prepare(ctx));
  let seeded = false;
  for (const [index, scenario] of selected.entries()) {
    if (usesPrimary(scenario) && !seeded) {
      seeded = true;
      for (const other of selected) await other.seed?.(ctx);
    }
    // The primary stops once no remaining scenario uses it (a restart on the embedded store needs its lock).
    if (!selected.slice(index).some((next) => next.server === 'primary')) await ctx.stopPrimary();
    await scenario.run(ctx);
  }
  await ctx.stopPrimary();

  for (const scenario of selected) {
    for (const [name, compute] of Object.entries(scenario.ratios ?? {})) report.ratios[name] = compute(report.scenarios);
  }
  // Under callgrind the comparison is by instructions: the baseline's per answer over the scenario's.
  const baselineInstructions = report.scenarios.baseline?.instructions_per_response;
  for (const [name, scenario] of Object.entries(report.scenarios)) {
    if (name !== 'baseline' && scenario.instructions_per_response)
      report.ratios[`${name}_instructions_vs_baseline`] = ratio(baselineInstructions, scenario.instructions_per_response);
  }
  report.load_average = { at_start: startLoad, at_end: rounded(loadavg()) };
  report.processes = Object.fromEntries(Object.entries(ctx.processPeaks).map(([name, peak]) => [name, { peak_rss_mb: peak }]));
  // Under valgrind, time and memory are valgrind's: the targets are about neither.
  const checks = callgrind ? [] : evaluateTargets(report, [...selected.flatMap((scenario) => scenario.targets), ...RUN_TARGETS]);
  report.checks = checks;

  mkdirSync(RESULTS, { recursive: true });
  const out = args.out ? resolve(args.out) : join(RESULTS, 'latest.json');
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

  process.stdout.write(
    `\nLatchkey benchmark (${report.mode}${quick ? ': shorter runs, 10,000-key list' : ''}) on ${store.label}, node ${report.node}, ${report.cpus} CPUs${replicas > 1 ? `, ${replicas} Latchkey replicas` : ''}\n\n`,
  );
  process.stdout.write(`${renderTable(report)}\n\n`);
  if (callgrind)
    process.stdout.write('targets: not evaluated under --callgrind; compare instructions_per_response and the *_instructions_vs_baseline ratios\n\n');
  else process.stdout.write(`targets${args.check ? '' : ', informational without --check'}:\n${renderChecks(checks)}\n\n`);
  process.stdout.write(`results written to ${out}\n`);
  const missed = checks.filter((c) => !c.ok);
  if (args.check && missed.length > 0) {
    process.stdout.write(`\n--check: ${missed.length} target(s) missed:\n${renderChecks(missed)}\n`);
    return 1;
  }
  return 0;
}

main()
  .then(async (code) => {
    await ctx.cleanUp(args.keep);
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    process.stderr.write(`\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await ctx.cleanUp(true);
    process.exit(1);
  });
