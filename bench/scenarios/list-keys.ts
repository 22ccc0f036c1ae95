import { call, seedKeys } from '../lib/latchkey.js';
import type { Outcome } from '../lib/load.js';
import { analyze, autovacuumIsOn } from '../lib/postgres.js';
import { num } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';
import { setUpBenchOrg } from './shared.js';

export const listKeys: Scenario = {
  name: 'list_keys',
  measures:
    '`GET /v1/orgs/{org}/api-keys?page_size=100` in an organization of 100,000 keys (10,000 with `--quick`, as many as its time box allows) spread over 200 owners, cycling over ~50 page tokens from every depth, on one connection (the target is the latency of a page); `list_keys_50c` the same at 50 connections (throughput, its p50 is mostly queueing); `list_keys_no_statistics`, on a Postgres with autovacuum off only, the same pages before `ANALYZE` (informational)',
  alsoWrites: ['list_keys_no_statistics', 'list_keys_50c'],
  server: 'primary',
  targets: [
    {
      target: 'list_keys p50 ≤ 15 ms at 100,000 keys',
      evaluate: ({ scenarios: { list_keys: list } }) => {
        if (!list) return undefined;
        const at = list.keys === undefined ? '' : list.keys >= 100_000 ? `, ${list.keys} keys` : `, measured at ${list.keys} keys, not 100,000`;
        return { ok: num(list.p50_ms) <= 15 && list.errors === 0, detail: `p50 ${list.p50_ms} ms, p99 ${list.p99_ms} ms, ${list.errors} errors${at}` };
      },
    },
  ],
  run: async (ctx) => {
    const { settings, store } = ctx;
    const s = ctx.scenarios;
    const replicas = await ctx.primary();
    const a = replicas[0]!;
    const listOrg = await setUpBenchOrg(ctx, a.url, `bench-list-${Date.now().toString(36)}`, settings.listOwners);
    // --quick ends within about 3 minutes: seeding gets what the scenarios after it leave.
    const budget = settings.quick
      ? Math.round(Math.min(90, Math.max(20, settings.quickTotalSeconds - settings.quickTailSeconds - ctx.elapsedSeconds())))
      : undefined;
    ctx.log(
      `seeding ${settings.listKeys} keys into ${listOrg.orgId} for list_keys${settings.quick ? ` (--quick: 10,000 instead of 100,000, at most ${budget}s of seeding)` : ''}`,
    );
    const seedStart = performance.now();
    const { created } = await seedKeys(a.url, listOrg, settings.listKeys, {
      capture: false,
      label: 'bench-list',
      ...(budget !== undefined ? { budgetSeconds: budget } : {}),
    });
    const seedSeconds = (performance.now() - seedStart) / 1000;
    let listSeedNote = `seeded ${created} keys in ${seedSeconds.toFixed(0)} s (${(created / seedSeconds).toFixed(0)} keys/s through the API)`;
    if (created < settings.listKeys) listSeedNote += `: the --quick seeding budget ran out before ${settings.listKeys}`;
    ctx.log(listSeedNote);
    // Walk every page once: proves the org holds the keys and yields page tokens at every depth.
    const base = `/v1/orgs/${listOrg.orgId}/api-keys?page_size=100`;
    const tokens: string[] = [];
    let listed = 0;
    let token: string | null = null;
    for (let page = 0; page < settings.listKeys / 100 + 5; page++) {
      const answer: { data: unknown[]; next_page_token: string | null } = await call(
        a.url,
        'GET',
        token ? `${base}&page_token=${encodeURIComponent(token)}` : base,
        listOrg.auth,
      );
      listed += answer.data.length;
      token = answer.next_page_token;
      if (!token) break;
      tokens.push(token);
    }
    ctx.log(`listed ${listed} keys in ${tokens.length + 1} pages`);
    const step = Math.max(1, Math.floor(tokens.length / 50));
    const paths = [base, ...tokens.filter((_, i) => i % step === 0).map((t) => `${base}&page_token=${encodeURIComponent(t)}`)];
    const listSpec = (title: string) => ({
      title,
      method: 'GET' as const,
      headers: { authorization: listOrg.auth },
      paths,
      classify: (status: number): Outcome => (status === 200 ? 'ok' : 'error'),
    });
    // The target is the latency of a page at 100,000 keys: one connection, no queueing. At 50
    // connections p50 is queueing (50 / throughput, Little's law), reported separately.
    const pagesNote = `one connection; ${listed} keys in the organization${settings.quick ? ' (--quick: not 100,000)' : ''}; ${paths.length} different pages of 100`;
    let analyzed = '';
    if (store.databaseUrl && !(await autovacuumIsOn(store.databaseUrl))) {
      // Kept for the record: the same pages while the table has never been analyzed.
      s.list_keys_no_statistics = (
        await ctx.measure(
          a,
          { ...listSpec('list_keys_no_statistics'), connections: 1 },
          {
            note: `${pagesNote}; the table never analyzed (autovacuum off): informational`,
          },
        )
      ).report;
      await analyze(store.databaseUrl);
      analyzed = '; autovacuum is off on this server, so the runner ran ANALYZE after seeding, as autovacuum would have';
      ctx.log(analyzed.slice(2));
    }
    const single = await ctx.measure(a, { ...listSpec('list_keys'), connections: 1 }, { note: `${pagesNote}; ${listSeedNote}${analyzed}` });
    s.list_keys = { ...single.report, keys: listed };
    const loaded = await ctx.measure(replicas, listSpec('list_keys_50c'), {
      warmup: false,
      note: `the same pages at ${settings.connections} connections: throughput (informational)`,
    });
    s.list_keys_50c = { ...loaded.report, keys: listed };
  },
};
