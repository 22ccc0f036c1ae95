import type { ProfileEntry } from './callgrind.js';
import type { LoadResult } from './load.js';
import type { Target } from './scenario.js';

export interface ScenarioReport {
  rps: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms?: number | null;
  errors: number;
  peak_rss_mb: number | null;
  /** answers the scenario intends that are not the work itself (429, 503) */
  intended?: number;
  responses?: number;
  seconds?: number;
  connections?: number;
  statuses?: Record<string, number>;
  server?: string;
  /** list_keys: keys in the listed organization */
  keys?: number;
  /** verify_batch: credentials verified per second (rps × items per request) */
  credentials_per_s?: number;
  /** replica_revocation: verification load running across the replicas meanwhile (ok answers/s) */
  background_rps?: number;
  note?: string;
  skipped?: string;
  first_error?: string;
  /** the measured run on CLOCK_MONOTONIC in µs, as in V8 CPU profiles (bench/profile.ts) */
  window_us?: [number, number];
  /**
   * Server CPU (user + system, all of the scenario's server processes) per answer during the
   * measured run: what one request costs the server, steadier than req/s on a shared machine.
   */
  cpu_us_per_response?: number | null;
  /** Server CPU seconds per second of the measured run (1 = one core kept busy). */
  server_busy?: number | null;
  /** --callgrind: instructions the server(s) executed during the measured run, per response. */
  instructions_per_response?: number;
  /** --callgrind: the functions that executed the most instructions themselves, per response (bench/lib/callgrind.ts). */
  instruction_profile?: ProfileEntry[];
}

export interface Report {
  store: 'postgres' | 'pglite';
  node: string;
  cpus: number;
  mode: 'quick' | 'full';
  started_at: string;
  settings: Record<string, unknown>;
  scenarios: Record<string, ScenarioReport>;
  /** Ratios of scenario entries taken in this run, as the scenarios declare them (e.g. verify_cached_vs_baseline). */
  ratios: Record<string, number | null>;
  processes: Record<string, { peak_rss_mb: number }>;
  /** 1, 5 and 15 minute load averages: other work on the machine makes numbers noisy */
  load_average?: { at_start: number[]; at_end: number[] };
  checks?: Check[];
}

export interface Check {
  target: string;
  ok: boolean;
  detail: string;
}

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export function fromLoad(
  result: LoadResult,
  extra: {
    peakRssMb: number | null;
    connections: number;
    server: string;
    note?: string;
    cpuSeconds?: number | null;
    instructions?: number | null;
    instructionProfile?: ProfileEntry[];
  },
): ScenarioReport {
  const cpu = extra.cpuSeconds;
  return {
    rps: round(result.rps),
    p50_ms: round(result.p50_ms, 2),
    p99_ms: round(result.p99_ms, 2),
    max_ms: round(result.max_ms, 2),
    errors: result.errors,
    peak_rss_mb: extra.peakRssMb === null ? null : round(extra.peakRssMb),
    intended: result.intended,
    responses: result.responses,
    seconds: round(result.seconds, 2),
    connections: extra.connections,
    statuses: result.statuses,
    server: extra.server,
    ...(extra.note ? { note: extra.note } : {}),
    ...(result.firstError ? { first_error: result.firstError } : {}),
    window_us: result.windowUs,
    ...(cpu == null
      ? {}
      : {
          cpu_us_per_response: result.responses > 0 ? round((cpu * 1e6) / result.responses) : null,
          server_busy: result.seconds > 0 ? round(cpu / result.seconds, 2) : null,
        }),
    ...(extra.instructions != null && result.responses > 0 ? { instructions_per_response: Math.round(extra.instructions / result.responses) } : {}),
    ...(extra.instructionProfile ? { instruction_profile: extra.instructionProfile } : {}),
  };
}

export function ratio(numerator: number | null | undefined, denominator: number | null | undefined): number | null {
  if (numerator == null || denominator == null || denominator === 0) return null;
  return round(numerator / denominator, 3);
}

/** The targets the selected scenarios declare, evaluated against one run (skipping what it did not measure). */
export function evaluateTargets(report: Report, targets: readonly Target[]): Check[] {
  const checks: Check[] = [];
  for (const { target, evaluate } of targets) {
    const outcome = evaluate(report);
    if (outcome) checks.push({ target, ...outcome });
  }
  return checks;
}

/** A ratio's value for a check: NaN (fails every comparison) when it is missing. */
export const num = (value: number | null | undefined) => (value == null ? NaN : value);

const pad = (text: string, width: number, right = false) => (right ? text.padStart(width) : text.padEnd(width));
const show = (value: number | null | undefined, digits = 1) => (value == null ? '-' : value.toFixed(digits));

export function renderTable(report: Report): string {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', '429/503', 'CPU µs/ans', 'peak RSS MB', 'server'];
  const widths = [30, 10, 8, 8, 9, 7, 8, 10, 12, 12];
  const lines = [header.map((h, i) => pad(h, widths[i]!, i > 0 && i < 9)).join(' ')];
  lines.push(widths.map((w) => '-'.repeat(w)).join(' '));
  for (const [name, s] of Object.entries(report.scenarios)) {
    if (s.skipped) {
      lines.push(`${pad(name, widths[0]!)} skipped: ${s.skipped}`);
      continue;
    }
    const cells = [
      name,
      show(s.rps),
      show(s.p50_ms, 2),
      show(s.p99_ms, 2),
      show(s.max_ms, 1),
      String(s.errors),
      s.intended === undefined ? '-' : String(s.intended),
      show(s.cpu_us_per_response, 0),
      show(s.peak_rss_mb),
      s.server ?? '',
    ];
    lines.push(cells.map((c, i) => pad(c, widths[i]!, i > 0 && i < 9)).join(' '));
    if (s.note) lines.push(`${' '.repeat(widths[0]! + 1)}↳ ${s.note}`);
  }
  lines.push('');
  const ratios = Object.entries(report.ratios).filter(([, value]) => value != null);
  lines.push(`ratios: ${ratios.length === 0 ? '-' : ratios.map(([name, value]) => `${name} ${show(value, 3)}`).join(', ')}`);
  lines.push(
    `peak RSS (VmHWM) per process: ${Object.entries(report.processes)
      .map(([n, p]) => `${n} ${p.peak_rss_mb} MB`)
      .join(', ')}`,
  );
  return lines.join('\n');
}

export function renderChecks(checks: Check[]): string {
  return checks.map((c) => `${c.ok ? 'PASS' : 'MISS'}  ${c.target}: ${c.detail}`).join('\n');
}
