/** What several scenarios share: the benchmark organization, the cached key set, targets of the cached verify paths. */
import type { Context } from '../lib/context.js';
import { type BenchOrg, bearer, type CreatedKey, seedKeys, setUpOrg, warmCache } from '../lib/latchkey.js';
import type { Outcome } from '../lib/load.js';
import type { ServerProcess } from '../lib/processes.js';
import { num, ratio, type ScenarioReport } from '../lib/report.js';
import type { Target } from '../lib/scenario.js';

export const verifyOk = (status: number, body: string): Outcome => (status === 200 && body.includes('"valid":true') ? 'ok' : 'error');

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;

/** With --caller root every call after the setup uses the root token instead of the caller's cloud key. */
export async function setUpBenchOrg(ctx: Context, baseUrl: string, name: string, owners: number): Promise<BenchOrg> {
  const org = await setUpOrg(baseUrl, ctx.rootToken, name, owners);
  return ctx.settings.caller === 'root' ? { ...org, auth: bearer(ctx.rootToken) } : org;
}

/** The organization every scenario on the primary seeds into (set up once, on the primary). */
export function benchOrg(ctx: Context): Promise<BenchOrg> {
  return ctx.once('org', async () => {
    const [a] = await ctx.primary();
    const org = await setUpBenchOrg(ctx, a!.url, `bench-${Date.now().toString(36)}`, ctx.settings.owners);
    ctx.log(
      `organization ${org.orgId}: resource ${org.resourceId}, ${org.ownerIds.length} key owners, caller ${org.callerId} (OrganizationAdmin + Verifier, cloud key ${org.callerKey.id})`,
    );
    return org;
  });
}

/** The API keys of verify_cached (and of the scenarios that replay it), created once through the primary. */
export function cachedKeys(ctx: Context): Promise<CreatedKey[]> {
  return ctx.once('cached-keys', async () => {
    const [a] = await ctx.primary();
    const org = await benchOrg(ctx);
    ctx.log(`seeding ${ctx.settings.cachedKeys} keys for verify_cached`);
    return (await seedKeys(a!.url, org, ctx.settings.cachedKeys, { capture: true, label: 'bench-cached' })).keys;
  });
}

/** The cached keys verified once on every replica (cache misses), so that loads on them measure hits. */
export function warmCachedKeys(ctx: Context): Promise<CreatedKey[]> {
  return ctx.once('cached-keys-warm', async () => {
    const [keys, org, replicas] = await Promise.all([cachedKeys(ctx), benchOrg(ctx), ctx.primary()]);
    ctx.log(
      `verifying each of them once on ${replicas.length === 1 ? 'the server' : `each of ${replicas.length} replicas`} (cache misses) so that the scenario measures hits`,
    );
    await onEach(replicas, (server) => warmCache(server.url, org.auth, keys, org.resourceId));
    return keys;
  });
}

/** Runs fn on every replica in turn (a cache is per process: each one fills its own). */
export async function onEach(servers: readonly ServerProcess[], fn: (server: ServerProcess) => Promise<unknown>): Promise<void> {
  for (const server of servers) await fn(server);
}

/**
 * The targets of a cached verification path (issue 15): at least 0.6 × the bare-Fastify baseline of
 * the same run, p99 ≤ 10 ms at 50 connections, no errors. Its ratios: `<name>_vs_baseline`, and for
 * the other families `<name>_vs_verify_cached` (informational).
 */
export function cachedVerifyTargets(name: string): { targets: Target[]; ratios: Record<string, (s: Record<string, ScenarioReport>) => number | null> } {
  const ratioName = `${name}_vs_baseline`;
  return {
    ratios: {
      [ratioName]: (s) => ratio(s[name]?.rps, s.baseline?.rps),
      ...(name === 'verify_cached' ? {} : { [`${name}_vs_verify_cached`]: (s: Record<string, ScenarioReport>) => ratio(s[name]?.rps, s.verify_cached?.rps) }),
    },
    targets: [
      {
        target: `${name} ≥ 0.6 × baseline req/s`,
        evaluate: (report) => {
          const [measured, baseline] = [report.scenarios[name], report.scenarios.baseline];
          if (!measured || !baseline) return undefined;
          const r = num(report.ratios[ratioName]);
          return { ok: r >= 0.6, detail: `${measured.rps} vs ${baseline.rps} req/s = ${r}×` };
        },
      },
      {
        target: `${name} p99 ≤ 10 ms at 50 connections`,
        evaluate: (report) => {
          const measured = report.scenarios[name];
          return measured && { ok: num(measured.p99_ms) <= 10, detail: `p99 ${measured.p99_ms} ms at ${measured.connections} connections` };
        },
      },
      {
        target: `${name} without errors`,
        evaluate: (report) => {
          const measured = report.scenarios[name];
          return (
            measured && { ok: measured.errors === 0, detail: `${measured.errors} errors${measured.first_error ? `; first: ${measured.first_error}` : ''}` }
          );
        },
      },
    ],
  };
}
