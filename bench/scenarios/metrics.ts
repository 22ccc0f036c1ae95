import { verifyBody, warmCache } from '../lib/latchkey.js';
import { freePort } from '../lib/processes.js';
import { num, ratio } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';
import { benchOrg, cachedKeys, verifyOk } from './shared.js';

export const verifyMetrics: Scenario = {
  name: 'verify_metrics',
  measures:
    '`verify_cached` on two restarts on the same store, one after the other, without and with `LATCHKEY_METRICS_PORT` (`verify_metrics_off`, `verify_metrics_on`): their ratio is the cost of metrics on the hot path',
  alsoWrites: ['verify_metrics_off', 'verify_metrics_on'],
  server: 'restart',
  ratios: { verify_metrics_on_vs_off: (s) => ratio(s.verify_metrics_on?.rps, s.verify_metrics_off?.rps) },
  targets: [
    {
      target: 'verify_cached with metrics ≥ 0.95 × without',
      evaluate: (report) => {
        const { verify_metrics_on: on, verify_metrics_off: off } = report.scenarios;
        if (!on || !off) return undefined;
        const r = num(report.ratios.verify_metrics_on_vs_off);
        return { ok: r >= 0.95 && on.errors === 0, detail: `${on.rps} vs ${off.rps} req/s = ${r}×` };
      },
    },
  ],
  seed: async (ctx) => {
    await cachedKeys(ctx);
  },
  run: async (ctx) => {
    const [org, keys] = await Promise.all([benchOrg(ctx), cachedKeys(ctx)]);
    const spec = {
      method: 'POST' as const,
      headers: { authorization: org.auth },
      paths: ['/v1/verify/api-key'],
      bodies: keys.map((key) => verifyBody(key, org.resourceId)),
      classify: verifyOk,
    };
    const metricsPort = await freePort();
    for (const [title, env] of [
      ['verify_metrics_off', {}],
      ['verify_metrics_on', { LATCHKEY_METRICS_PORT: String(metricsPort) }],
    ] as const) {
      const server = await ctx.startLatchkey(`latchkey-${title.replaceAll('_', '-')}`, 1_000_000, env);
      try {
        await warmCache(server.url, org.auth, keys, org.resourceId);
        ctx.scenarios[title] = (
          await ctx.measure(
            server,
            { title, ...spec },
            { note: `verify_cached on a restart ${title.endsWith('on') ? 'with' : 'without'} LATCHKEY_METRICS_PORT` },
          )
        ).report;
        if (title.endsWith('on')) {
          const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
          const valid = /^latchkey_verifications_total\{kind="api_key",code="VALID"\} (\d+)/m.exec(text)?.[1];
          ctx.log(`verify_metrics_on: the metrics listener counted ${valid ?? 'no'} VALID api_key verifications`);
        }
      } finally {
        await ctx.stopServer(server);
      }
    }
  },
};
