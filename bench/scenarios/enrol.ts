import type { Context } from '../lib/context.js';
import { call } from '../lib/latchkey.js';
import { type Outcome, runLoad } from '../lib/load.js';
import { num } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';
import { benchOrg } from './shared.js';

/** Client ids (the `url` of an enrolment answer) that details reads, at most this many kept. */
const KEEP_CLIENT_IDS = 1000;

/**
 * A load of kdb Insights enrolments, every request a new client name (a repeated one is 409; force
 * would also revoke, a different workload); the client ids it answers are collected into `clientIds`.
 */
async function enrolSpec(ctx: Context, title: string, names: number, clientIds: string[]) {
  const org = await benchOrg(ctx);
  const kxi = await ctx.once('kxi-resource', async () =>
    call<{ id: string }>((await ctx.primary())[0]!.url, 'POST', `/v1/orgs/${org.orgId}/resources`, org.auth, {
      kind: 'kdb_insights',
      display_name: 'bench-kxi',
      environment_id: org.environmentId,
    }),
  );
  return {
    title,
    method: 'POST' as const,
    headers: { authorization: org.auth, 'content-type': 'application/json' },
    paths: [`/clientcontroller/enrol?resource_id=${kxi.id}`],
    bodies: Array.from({ length: names }, (_, i) => JSON.stringify({ name: `${title}-${i}`, topics: { insert: 'data', query: 'requests' } })),
    classify: (status: number, body: string): Outcome => {
      if (status !== 200) return 'error';
      if (clientIds.length < KEEP_CLIENT_IDS) clientIds.push((JSON.parse(body) as { url: string }).url);
      return 'ok';
    },
  };
}

/** Enrolled client ids: those `enrol` made, or 200 enrolled now when it did not run. */
export function enrolledClients(ctx: Context): Promise<string[]> {
  return ctx.once('kxi-clients', async () => {
    const clientIds: string[] = [];
    const baseUrl = (await ctx.primary())[0]!.url;
    await runLoad({ ...(await enrolSpec(ctx, 'enrol-seed', 200, clientIds)), baseUrl, connections: 10, durationSeconds: 60, amount: 200 });
    return clientIds;
  });
}

export const enrol: Scenario = {
  name: 'enrol',
  measures:
    '`POST /clientcontroller/enrol` (kdb Insights), a new client name each time: key generation, signing, one argon2 hash and a transaction per request',
  server: 'primary',
  targets: [
    {
      target: 'enrol ≥ 100/s',
      evaluate: ({ scenarios: { enrol: measured } }) =>
        measured && { ok: num(measured.rps) >= 100 && measured.errors === 0, detail: `${measured.rps} enrolments/s, ${measured.errors} errors` },
    },
  ],
  run: async (ctx) => {
    const clientIds: string[] = [];
    ctx.scenarios.enrol = (
      await ctx.measure(await ctx.primary(), await enrolSpec(ctx, 'enrol', 200_000, clientIds), {
        warmup: false,
        note: 'POST /clientcontroller/enrol, a new client name each time (no warm-up: it would use the same names)',
      })
    ).report;
    ctx.share('kxi-clients', clientIds);
  },
};
