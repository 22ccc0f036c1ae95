import type { CreatedKey } from '../lib/latchkey.js';
import type { Outcome } from '../lib/load.js';
import { ratio, round } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';
import { benchOrg, warmCachedKeys } from './shared.js';

const PATH = '/v1/verify/batch';

/** Request bodies of `size` api-key items each, over the keys in turn (each key in some body). */
function batchBodies(keys: readonly CreatedKey[], resourceId: string, size: number): string[] {
  return Array.from({ length: Math.ceil(keys.length / size) }, (_, b) =>
    JSON.stringify({
      items: Array.from({ length: size }, (_, i) => {
        const key = keys[(b * size + i) % keys.length]!;
        return { kind: 'api_key', key: key.id, secret: key.secret, resource_id: resourceId };
      }),
    }),
  );
}

export const verifyBatch: Scenario = {
  name: 'verify_batch',
  measures:
    '`POST /v1/verify/batch` with 100 api-key items per request over the keys of `verify_cached` (cache hits); a request counts when all 100 answers are valid; reports credentials/s against `verify_cached` req/s (informational; skipped with the reason when the route answers 404)',
  server: 'primary',
  targets: [],
  ratios: { verify_batch_credentials_vs_verify_cached: (s) => ratio(s.verify_batch?.credentials_per_s, s.verify_cached?.rps) },
  run: async (ctx) => {
    const size = ctx.settings.batchSize;
    const replicas = await ctx.primary();
    const [org, keys] = await Promise.all([benchOrg(ctx), warmCachedKeys(ctx)]);
    const bodies = batchBodies(keys, org.resourceId, size);
    const probe = await fetch(replicas[0]!.url + PATH, {
      method: 'POST',
      headers: { authorization: org.auth, 'content-type': 'application/json' },
      body: bodies[0]!,
      signal: AbortSignal.timeout(10_000),
    });
    const probeText = await probe.text();
    if (probe.status === 404) {
      const skipped = `${PATH} answered 404: this build has no batch verification route`;
      ctx.scenarios.verify_batch = { rps: null, p50_ms: null, p99_ms: null, errors: 0, peak_rss_mb: null, skipped };
      ctx.log(`verify_batch skipped: ${skipped}`);
      return;
    }
    if (probe.status !== 200) throw new Error(`verify_batch: ${PATH} answered ${probe.status}: ${probeText.slice(0, 300)}`);
    const { report } = await ctx.measure(
      replicas,
      {
        title: 'verify_batch',
        method: 'POST',
        headers: { authorization: org.auth },
        paths: [PATH],
        bodies,
        classify: (status: number, body: string): Outcome => (status === 200 && body.split('"valid":true').length - 1 === size ? 'ok' : 'error'),
      },
      { note: `${size} api-key items per request over ${keys.length} cached keys; credentials/s = req/s × ${size}` },
    );
    ctx.scenarios.verify_batch = { ...report, credentials_per_s: report.rps === null ? undefined : round(report.rps * size) };
    ctx.log(`verify_batch: ${ctx.scenarios.verify_batch.credentials_per_s} credentials/s (verify_cached: ${ctx.scenarios.verify_cached?.rps ?? '-'} req/s)`);
  },
};
