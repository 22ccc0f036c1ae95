import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Context } from '../lib/context.js';
import { call, createFluvioCluster, mapLimit, seedAccessKeys, verifyAccessKeyBody } from '../lib/latchkey.js';
import { freePort } from '../lib/processes.js';
import { num } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';
import { benchOrg, cachedVerifyTargets, onEach, verifyOk } from './shared.js';

const KEY_FILTER_ORIGIN = 'key-filter-origin';

function fluvioCluster(ctx: Context): Promise<string> {
  return ctx.once('fluvio-cluster', async () => createFluvioCluster((await ctx.primary())[0]!.url, ctx.rootToken, await benchOrg(ctx)));
}

/** Seeds access keys and verifies each once on every replica (one argon2 each), so that the load measures hits. */
async function seedAndWarm(ctx: Context, label: string, keyFilterRemote?: string, params?: (i: number) => Record<string, string>): Promise<string[]> {
  const replicas = await ctx.primary();
  const [org, clusterId] = await Promise.all([benchOrg(ctx), fluvioCluster(ctx)]);
  const keys = await seedAccessKeys(replicas[0]!.url, org, clusterId, ctx.settings.accessKeys, label, keyFilterRemote);
  const bodies = keys.map((key, i) => verifyAccessKeyBody(key, clusterId, params?.(i)));
  await onEach(replicas, async (server) => {
    const answers = await mapLimit(bodies, 8, (body) =>
      call<{ valid: boolean; code: string }>(server.url, 'POST', '/v1/verify/access-key', org.auth, JSON.parse(body)),
    );
    const bad = answers.filter((answer) => !answer.valid);
    if (bad.length > 0) throw new Error(`${bad.length} of ${bodies.length} access keys did not verify on ${server.name} (first: ${bad[0]!.code})`);
  });
  return bodies;
}

const cached = cachedVerifyTargets('verify_access_key_cached');

export const verifyAccessKeyCached: Scenario = {
  name: 'verify_access_key_cached',
  measures:
    '`POST /v1/verify/access-key` (`operation: consume`) over 300 (full: 1,000) distinct simple access keys of a `fluvio_cluster`, each verified once before: cache hits',
  server: 'primary',
  targets: cached.targets,
  ratios: cached.ratios,
  run: async (ctx) => {
    ctx.log(`seeding ${ctx.settings.accessKeys} access keys for verify_access_key_cached`);
    const bodies = await seedAndWarm(ctx, 'bench-cached');
    ctx.scenarios.verify_access_key_cached = (
      await ctx.measure(
        await ctx.primary(),
        {
          title: 'verify_access_key_cached',
          method: 'POST',
          headers: { authorization: (await benchOrg(ctx)).auth },
          paths: ['/v1/verify/access-key'],
          bodies,
          classify: verifyOk,
        },
        { note: `${bodies.length} distinct access keys, each verified once before` },
      )
    ).report;
  },
};

export const verifyAccessKeyFilter: Scenario = {
  name: 'verify_access_key_filter',
  measures:
    'the same for 300 (full: 1,000) keys with a remote key filter: every request POSTs its `tenant` parameter over HTTPS to `bench/servers/key-filter.ts`, a local server answering after ~1 ms (Latchkey trusts its self-signed certificate through `NODE_EXTRA_CA_CERTS` and allow-lists its `127.0.0.1:port`; the filter cache is off)',
  server: 'primary',
  targets: [
    {
      target: 'verify_access_key_filter p99 ≤ 20 ms at 50 connections',
      evaluate: ({ scenarios: { verify_access_key_filter: filter } }) =>
        filter && { ok: num(filter.p99_ms) <= 20 && filter.errors === 0, detail: `${filter.rps} req/s, p99 ${filter.p99_ms} ms, ${filter.errors} errors` },
    },
  ],
  // A local HTTPS remote whose self-signed certificate Latchkey trusts the production way, through
  // NODE_EXTRA_CA_CERTS, and whose host:port is allow-listed.
  prepare: async (ctx) => {
    const certFile = join(ctx.runDir, 'key-filter-cert.pem');
    const keyFile = join(ctx.runDir, 'key-filter-key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    const filterPort = await freePort();
    const origin = `127.0.0.1:${filterPort}`;
    await ctx.startHelper('key-filter', 'key-filter.ts', { KEY_FILTER_PORT: String(filterPort), KEY_FILTER_CERT: certFile, KEY_FILTER_KEY: keyFile });
    ctx.share(KEY_FILTER_ORIGIN, origin);
    return { NODE_EXTRA_CA_CERTS: certFile, LATCHKEY_KEY_FILTER_ALLOWED_HOSTS: origin };
  },
  run: async (ctx) => {
    const origin = await ctx.once<string>(KEY_FILTER_ORIGIN, () => Promise.reject(new Error('verify_access_key_filter: prepare did not run')));
    ctx.log(`seeding ${ctx.settings.accessKeys} access keys with a remote key filter on ${origin}`);
    const bodies = await seedAndWarm(ctx, 'bench-filter', `tenant:https://${origin}/filter`, (i) => ({ tenant: `t${i % 100}` }));
    ctx.scenarios.verify_access_key_filter = (
      await ctx.measure(
        await ctx.primary(),
        {
          title: 'verify_access_key_filter',
          method: 'POST',
          headers: { authorization: (await benchOrg(ctx)).auth },
          paths: ['/v1/verify/access-key'],
          bodies,
          classify: (status, body) => (status === 200 && body.includes('"key_filter":"tenant=') ? 'ok' : 'error'),
        },
        {
          note: `${bodies.length} access keys (hash checks cached), each consume POSTs to a local HTTPS filter answering in ~1 ms (LATCHKEY_KEY_FILTER_CACHE_SECONDS=0)`,
        },
      )
    ).report;
  },
};
