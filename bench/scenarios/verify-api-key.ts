import type { CreatedKey } from '../lib/latchkey.js';
import { seedKeys, verifyBody } from '../lib/latchkey.js';
import { backgroundLoad } from '../lib/load.js';
import { fromLoad, num } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';
import { measureBaseline } from './baseline.js';
import { COLD_POOL } from './create-key.js';
import { benchOrg, cachedVerifyTargets, verifyOk, warmCachedKeys } from './shared.js';

const cached = cachedVerifyTargets('verify_cached');

export const verifyCached: Scenario = {
  name: 'verify_cached',
  measures: '`POST /v1/verify/api-key` over 1,000 (full: 2,000) distinct keys, each verified once before: cache hits',
  server: 'primary',
  targets: cached.targets,
  ratios: cached.ratios,
  run: async (ctx) => {
    const replicas = await ctx.primary();
    const [org, keys] = await Promise.all([benchOrg(ctx), warmCachedKeys(ctx)]);
    await measureBaseline(ctx);
    ctx.scenarios.verify_cached = (
      await ctx.measure(
        replicas,
        {
          title: 'verify_cached',
          method: 'POST',
          headers: { authorization: org.auth },
          paths: ['/v1/verify/api-key'],
          bodies: keys.map((key) => verifyBody(key, org.resourceId)),
          classify: verifyOk,
        },
        { note: `${keys.length} distinct keys, each verified once before` },
      )
    ).report;
  },
};

export const verifyCold: Scenario = {
  name: 'verify_cold',
  measures:
    'keys never verified before (those `create_key` made, topped up), each sent exactly once: one argon2id verify each (503 answers count as intended); `healthz_during_cold` is `GET /healthz` at 100 req/s on 2 connections of a second load generator meanwhile: event-loop responsiveness',
  alsoWrites: ['healthz_during_cold'],
  server: 'primary',
  targets: [
    {
      target: 'verify_cold ≥ 150 verifications/s',
      evaluate: ({ scenarios: { verify_cold: cold } }) => cold && { ok: num(cold.rps) >= 150, detail: `${cold.rps} verifications/s` },
    },
    {
      target: 'verify_cold: no errors other than intended 503s',
      evaluate: ({ scenarios: { verify_cold: cold } }) =>
        cold && {
          ok: cold.errors === 0,
          detail: `${cold.errors} errors, ${cold.intended ?? 0} intended 503s${cold.first_error ? `; first: ${cold.first_error}` : ''}`,
        },
    },
    {
      target: '/healthz p99 ≤ 50 ms during verify_cold',
      evaluate: ({ scenarios: { healthz_during_cold: health } }) =>
        health && { ok: num(health.p99_ms) <= 50, detail: `p99 ${health.p99_ms} ms (max ${health.max_ms} ms)` },
    },
  ],
  run: async (ctx) => {
    const { settings } = ctx;
    const replicas = await ctx.primary();
    const org = await benchOrg(ctx);
    let pool = await ctx.once<CreatedKey[]>(COLD_POOL, async () => []);
    const want = settings.coldKeysMin + 2 * settings.connections;
    if (pool.length < want) {
      ctx.log(`seeding ${want - pool.length} more never-verified keys for verify_cold`);
      pool = pool.concat((await seedKeys(replicas[0]!.url, org, want - pool.length, { capture: true, label: 'bench-cold' })).keys);
    }
    // Never send one key twice: autocannon builds a request per connection ahead of sending.
    const amount = pool.length - 2 * settings.connections;
    for (const server of replicas) server.resetWindow();
    const healthRun = backgroundLoad({
      title: 'healthz_during_cold',
      baseUrl: replicas.map((server) => server.url),
      method: 'GET',
      paths: ['/healthz'],
      connections: settings.healthzConnections,
      overallRate: settings.healthzRate,
      durationSeconds: settings.durationSeconds * 3 + 5,
      classify: (status) => (status === 200 ? 'ok' : 'error'),
    });
    const cold = await ctx.measure(
      replicas,
      {
        title: 'verify_cold',
        method: 'POST',
        headers: { authorization: org.auth },
        paths: ['/v1/verify/api-key'],
        bodies: pool.map((key) => verifyBody(key, org.resourceId)),
        amount,
        classify: (status, body) => (status === 503 ? 'intended' : verifyOk(status, body)),
      },
      { warmup: false, note: `${amount} never-verified keys, each sent once (one argon2id verify each)` },
    );
    const health = await healthRun.stop();
    ctx.scenarios.verify_cold = cold.report;
    ctx.scenarios.healthz_during_cold = fromLoad(health, {
      peakRssMb: Math.max(...replicas.map((server) => server.windowPeakMb())),
      connections: settings.healthzConnections,
      server: cold.report.server ?? '',
      note: `GET /healthz at ${settings.healthzRate} req/s alongside verify_cold`,
    });
    ctx.log(`healthz_during_cold: p50 ${health.p50_ms} ms, p99 ${health.p99_ms} ms, max ${health.max_ms} ms`);
  },
};
