import type { Context } from './context.js';
import type { Report, ScenarioReport } from './report.js';

/** One threshold `--check` evaluates; `evaluate` answers undefined when the run did not measure it. */
export interface Target {
  /** The threshold as a sentence, e.g. "verify_cached p99 ≤ 10 ms at 50 connections". */
  target: string;
  evaluate(report: Report): { ok: boolean; detail: string } | undefined;
}

/**
 * Where a scenario's load goes:
 * - `none`: its own helper servers only (baseline, peer);
 * - `primary`: the shared Latchkey (`--replicas N` processes, started once, seeded once);
 * - `restart`: Latchkey processes of its own on the same store, after the primary has stopped.
 */
type ServerUse = 'none' | 'primary' | 'restart';

/**
 * A benchmark scenario: the unit `--only` selects. Its name, what it measures, its targets and the
 * ratios it reports are declared here, in one place; the runner, `--check`, `--list` and the
 * README's table are derived from these declarations.
 */
export interface Scenario {
  /** The `--only` name; also the key of its main entry in the results' `scenarios`. */
  name: string;
  /** What it measures, one sentence. */
  measures: string;
  /** Entries it writes to the results besides `name` (a group of related measurements). */
  alsoWrites?: string[];
  /** Thresholds `--check` evaluates; none means informational. */
  targets: Target[];
  /** Ratios it reports (results' `ratios`), computed from the scenario entries after the run. */
  ratios?: Record<string, (scenarios: Record<string, ScenarioReport>) => number | null>;
  server: ServerUse;
  /** Before the primary starts: helper servers it needs, and extra environment for the primary. */
  prepare?(ctx: Context): Promise<Record<string, string>>;
  /** While the primary runs, before any scenario is measured: seeding a `restart` scenario needs later. */
  seed?(ctx: Context): Promise<void>;
  run(ctx: Context): Promise<void>;
}
