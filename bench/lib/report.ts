import type { LoadResult } from './load.js';

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
  note?: string;
  skipped?: string;
  first_error?: string;
  /** the measured run on CLOCK_MONOTONIC in µs, as in V8 CPU profiles (bench/profile.ts) */
  window_us?: [number, number];
}

export interface Report {
  store: 'postgres' | 'pglite';
  node: string;
  cpus: number;
  mode: 'quick' | 'full';
  started_at: string;
  settings: Record<string, unknown>;
  scenarios: Record<string, ScenarioReport>;
  ratios: {
    verify_cached_vs_baseline: number | null;
    verify_cached_vs_peer: number | null;
    verify_cached_during_attack_vs_before: number | null;
    /** verify_cached with LATCHKEY_METRICS_PORT set over without (verify_metrics) */
    verify_metrics_on_vs_off?: number | null;
    verify_access_key_cached_vs_verify_cached?: number | null;
    verify_cluster_key_cached_vs_verify_cached?: number | null;
  };
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

const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export function fromLoad(result: LoadResult, extra: { peakRssMb: number | null; connections: number; server: string; note?: string }): ScenarioReport {
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
  };
}

export function ratio(numerator: number | null | undefined, denominator: number | null | undefined): number | null {
  if (numerator == null || denominator == null || denominator === 0) return null;
  return round(numerator / denominator, 3);
}

/** The targets of issue 4, evaluated against one run. */
export function evaluateTargets(report: Report): Check[] {
  const s = report.scenarios;
  const checks: Check[] = [];
  const add = (target: string, ok: boolean, detail: string) => checks.push({ target, ok, detail });
  const num = (value: number | null | undefined) => (value == null ? NaN : value);

  const cached = s.verify_cached;
  const baseline = s.baseline;
  if (cached && baseline) {
    const r = num(report.ratios.verify_cached_vs_baseline);
    add('verify_cached ≥ 0.6 × baseline rps', r >= 0.6, `${cached.rps} vs ${baseline.rps} req/s = ${r}×`);
    add('verify_cached p99 ≤ 15 ms at 50 connections', num(cached.p99_ms) <= 15, `p99 ${cached.p99_ms} ms at ${cached.connections} connections`);
    add('verify_cached without errors', cached.errors === 0, `${cached.errors} errors`);
  }
  const cold = s.verify_cold;
  if (cold) {
    add('verify_cold ≥ 150 verifications/s', num(cold.rps) >= 150, `${cold.rps} verifications/s`);
    add('verify_cold: no errors other than intended 503s', cold.errors === 0, `${cold.errors} errors, ${cold.intended ?? 0} intended 503s${cold.first_error ? `; first: ${cold.first_error}` : ''}`);
  }
  const clusterCached = s.verify_cluster_key_cached;
  if (clusterCached && cached) {
    const r = num(report.ratios.verify_cluster_key_cached_vs_verify_cached);
    add('verify_cluster_key_cached ≥ 0.9 × verify_cached', r >= 0.9 && clusterCached.errors === 0, `${clusterCached.rps} vs ${cached.rps} req/s = ${r}×, ${clusterCached.errors} errors`);
  }
  const clusterCold = s.verify_cluster_key_cold;
  if (clusterCold) {
    add('verify_cluster_key_cold ≥ 2,000 verifications/s', num(clusterCold.rps) >= 2000 && clusterCold.errors === 0, `${clusterCold.rps} verifications/s, ${clusterCold.errors} errors`);
  }
  const health = s.healthz_during_cold;
  if (health) add('/healthz p99 ≤ 50 ms during verify_cold', num(health.p99_ms) <= 50, `p99 ${health.p99_ms} ms (max ${health.max_ms} ms)`);
  const invalid = s.verify_invalid;
  if (invalid) {
    add('verify_invalid answers 429/INVALID without 5xx', invalid.errors === 0, `${invalid.errors} other answers; statuses ${JSON.stringify(invalid.statuses)}${invalid.first_error ? `; first: ${invalid.first_error}` : ''}`);
  }
  const attacked = s.verify_cached_during_attack;
  const before = s.verify_cached_before_attack;
  if (attacked && before) {
    const r = num(report.ratios.verify_cached_during_attack_vs_before);
    add('verify_invalid degrades verify_cached by at most half', r >= 0.5 && attacked.errors === 0, `${attacked.rps} req/s during attack vs ${before.rps} before = ${r}×, ${attacked.errors} errors`);
  }
  const attack = s.verify_invalid_during_attack;
  if (attack) add('verify_invalid (mixed) without 5xx', attack.errors === 0, `${attack.errors} other answers; statuses ${JSON.stringify(attack.statuses)}`);
  const create = s.create_key;
  if (create) add('create_key ≥ 100/s', num(create.rps) >= 100 && create.errors === 0, `${create.rps} keys/s, ${create.errors} errors`);
  const list = s.list_keys;
  if (list) {
    const at = list.keys === undefined ? '' : list.keys >= 100_000 ? `, ${list.keys} keys` : `, measured at ${list.keys} keys, not 100,000`;
    add('list_keys p50 ≤ 15 ms at 100,000 keys', num(list.p50_ms) <= 15 && list.errors === 0, `p50 ${list.p50_ms} ms, p99 ${list.p99_ms} ms, ${list.errors} errors${at}`);
  }
  const propagation = s.revocation_propagation;
  if (propagation && !propagation.skipped) {
    add('revocation_propagation p99 ≤ 1,000 ms', num(propagation.p99_ms) <= 1000 && propagation.errors === 0, `p50 ${propagation.p50_ms} ms, p99 ${propagation.p99_ms} ms, max ${propagation.max_ms} ms, ${propagation.errors} keys never stopped verifying`);
  }
  const accessCached = s.verify_access_key_cached;
  if (accessCached && cached) {
    const r = num(report.ratios.verify_access_key_cached_vs_verify_cached);
    add('verify_access_key_cached ≥ 0.9 × verify_cached', r >= 0.9 && accessCached.errors === 0, `${accessCached.rps} vs ${cached.rps} req/s = ${r}×, ${accessCached.errors} errors`);
  }
  const accessFilter = s.verify_access_key_filter;
  if (accessFilter) {
    add('verify_access_key_filter p99 ≤ 20 ms at 50 connections', num(accessFilter.p99_ms) <= 20 && accessFilter.errors === 0, `${accessFilter.rps} req/s, p99 ${accessFilter.p99_ms} ms, ${accessFilter.errors} errors`);
  }
  const peer = s.peer_verify;
  if (cached && peer) {
    const r = num(report.ratios.verify_cached_vs_peer);
    add('verify_cached ≥ 3 × peer_verify', r >= 3, `${cached.rps} vs ${peer.rps} req/s = ${r}×`);
  }
  const metricsOn = s.verify_metrics_on;
  const metricsOff = s.verify_metrics_off;
  if (metricsOn && metricsOff) {
    const r = num(report.ratios.verify_metrics_on_vs_off);
    add('verify_cached with metrics ≥ 0.95 × without', r >= 0.95 && metricsOn.errors === 0, `${metricsOn.rps} vs ${metricsOff.rps} req/s = ${r}×`);
  }
  const latchkeyPeaks = Object.entries(report.processes).filter(([name]) => name.startsWith('latchkey'));
  if (latchkeyPeaks.length > 0) {
    const [name, worst] = latchkeyPeaks.reduce((a, b) => (b[1].peak_rss_mb > a[1].peak_rss_mb ? b : a));
    add('server peak RSS ≤ 300 MB', worst.peak_rss_mb <= 300, `${worst.peak_rss_mb} MB (${name}, VmHWM)`);
  }
  return checks;
}

const pad = (text: string, width: number, right = false) => (right ? text.padStart(width) : text.padEnd(width));
const show = (value: number | null | undefined, digits = 1) => (value == null ? '-' : value.toFixed(digits));

export function renderTable(report: Report): string {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'max ms', 'errors', '429/503', 'peak RSS MB', 'server'];
  const widths = [30, 10, 8, 8, 9, 7, 8, 12, 12];
  const lines = [header.map((h, i) => pad(h, widths[i]!, i > 0 && i < 8)).join(' ')];
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
      show(s.peak_rss_mb),
      s.server ?? '',
    ];
    lines.push(cells.map((c, i) => pad(c, widths[i]!, i > 0 && i < 8)).join(' '));
    if (s.note) lines.push(`${' '.repeat(widths[0]! + 1)}↳ ${s.note}`);
  }
  lines.push('');
  lines.push(`ratios: verify_cached/baseline ${show(report.ratios.verify_cached_vs_baseline, 3)}, verify_cached/peer ${show(report.ratios.verify_cached_vs_peer, 3)}, cached during/before attack ${show(report.ratios.verify_cached_during_attack_vs_before, 3)}${report.ratios.verify_metrics_on_vs_off == null ? '' : `, verify metrics on/off ${show(report.ratios.verify_metrics_on_vs_off, 3)}`}`);
  lines.push(`peak RSS (VmHWM) per process: ${Object.entries(report.processes).map(([n, p]) => `${n} ${p.peak_rss_mb} MB`).join(', ')}`);
  return lines.join('\n');
}

export function renderChecks(checks: Check[]): string {
  return checks.map((c) => `${c.ok ? 'PASS' : 'MISS'}  ${c.target}: ${c.detail}`).join('\n');
}
