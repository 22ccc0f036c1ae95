import type { Context } from '../lib/context.js';
import { seedClusterKeys, setUpPulsarCluster, verifyClusterKeyBody } from '../lib/latchkey.js';
import { runLoad } from '../lib/load.js';
import { num } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';
import { benchOrg, cachedVerifyTargets, onEach, verifyOk } from './shared.js';

/** Cluster keys are JWTs: a miss is one signature check (RS256) and one row read, no argon2. */
async function clusterSpec(ctx: Context, title: string, tokens: string[]) {
  const [org, pulsarId] = await Promise.all([benchOrg(ctx), pulsarCluster(ctx)]);
  return {
    title,
    method: 'POST' as const,
    headers: { authorization: org.auth },
    paths: ['/v1/verify/cluster-key'],
    bodies: tokens.map((token) => verifyClusterKeyBody(token, pulsarId)),
    classify: verifyOk,
  };
}

function pulsarCluster(ctx: Context): Promise<string> {
  return ctx.once('pulsar-cluster', async () => setUpPulsarCluster((await ctx.primary())[0]!.url, await benchOrg(ctx)));
}

async function seed(ctx: Context, count: number, label: string): Promise<string[]> {
  ctx.log(`seeding ${count} cluster keys for ${label}`);
  return seedClusterKeys((await ctx.primary())[0]!.url, await benchOrg(ctx), await pulsarCluster(ctx), count, label);
}

const cached = cachedVerifyTargets('verify_cluster_key_cached');

export const verifyClusterKeyCached: Scenario = {
  name: 'verify_cluster_key_cached',
  measures:
    '`POST /v1/verify/cluster-key` over 1,000 (full: 2,000) distinct RS256 cluster keys (JWTs) of a `pulsar_cluster`, each verified once before: cache hit plus the in-memory revocation check',
  server: 'primary',
  targets: cached.targets,
  ratios: cached.ratios,
  run: async (ctx) => {
    const replicas = await ctx.primary();
    const tokens = await seed(ctx, ctx.settings.cachedKeys, 'bench-ck-cached');
    const spec = await clusterSpec(ctx, 'verify_cluster_key_cached', tokens);
    await onEach(replicas, (server) =>
      runLoad({ ...spec, title: `${spec.title} warm cache`, baseUrl: server.url, connections: 8, durationSeconds: 60, amount: tokens.length }),
    );
    ctx.scenarios.verify_cluster_key_cached = (
      await ctx.measure(replicas, spec, {
        note: `${tokens.length} distinct RS256 cluster keys, each verified once before`,
      })
    ).report;
  },
};

export const verifyClusterKeyCold: Scenario = {
  name: 'verify_cluster_key_cold',
  measures: 'never-verified cluster keys, each sent exactly once: one RS256 signature check and one row read each, no argon2',
  server: 'primary',
  targets: [
    {
      target: 'verify_cluster_key_cold ≥ 2,000 verifications/s',
      evaluate: ({ scenarios: { verify_cluster_key_cold: cold } }) =>
        cold && { ok: num(cold.rps) >= 2000 && cold.errors === 0, detail: `${cold.rps} verifications/s, ${cold.errors} errors` },
    },
  ],
  run: async (ctx) => {
    const { connections, coldKeysMin } = ctx.settings;
    const tokens = await seed(ctx, coldKeysMin + 2 * connections, 'bench-ck-cold');
    // Never send one token twice: autocannon builds a request per connection ahead of sending.
    const amount = tokens.length - 2 * connections;
    ctx.scenarios.verify_cluster_key_cold = (
      await ctx.measure(
        await ctx.primary(),
        { ...(await clusterSpec(ctx, 'verify_cluster_key_cold', tokens)), amount },
        {
          warmup: false,
          note: `${amount} never-verified RS256 cluster keys, each sent once (one signature check each)`,
        },
      )
    ).report;
  },
};
