import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from '../lib/context.js';
import { num, ratio } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';
import { verifyOk } from './shared.js';

function betterAuthVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(REPO, 'node_modules', 'better-auth', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export const peerVerify: Scenario = {
  name: 'peer_verify',
  measures:
    'better-auth\'s API key plugin (`bench/servers/peer.ts`, see "The peer" below) verifying 1,000 (full: 2,000) keys through `auth.api.verifyApiKey` behind a minimal Fastify route, on the same database server',
  server: 'none',
  ratios: { verify_cached_vs_peer: (s) => ratio(s.verify_cached?.rps, s.peer_verify?.rps) },
  targets: [
    {
      target: 'verify_cached ≥ 3 × peer_verify',
      evaluate: (report) => {
        const { verify_cached: cached, peer_verify: peer } = report.scenarios;
        if (!cached || !peer) return undefined;
        const r = num(report.ratios.verify_cached_vs_peer);
        return { ok: r >= 3, detail: `${cached.rps} vs ${peer.rps} req/s = ${r}×` };
      },
    },
  ],
  run: async (ctx) => {
    const { store } = ctx;
    const peer = await ctx.startHelper('peer', 'peer.ts', {
      ...(store.peerDatabaseUrl ? { PEER_DATABASE_URL: store.peerDatabaseUrl } : { PEER_SQLITE_PATH: join(ctx.runDir, 'peer.sqlite') }),
    });
    try {
      const seeded = await fetch(`${peer.url}/seed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ count: ctx.settings.peerKeys }),
        signal: AbortSignal.timeout(300_000),
      });
      if (!seeded.ok) throw new Error(`peer seeding answered ${seeded.status}: ${await seeded.text()}`);
      const { keys } = (await seeded.json()) as { keys: string[] };
      ctx.scenarios.peer_verify = (
        await ctx.measure(
          peer,
          {
            title: 'peer_verify',
            method: 'POST',
            paths: ['/verify'],
            bodies: keys.map((key) => JSON.stringify({ key })),
            classify: verifyOk,
          },
          {
            note: `better-auth ${betterAuthVersion()} API key plugin on ${store.kind === 'postgres' ? 'Postgres (pg Pool)' : 'SQLite (libsql)'}, ${keys.length} keys, rate limit off`,
          },
        )
      ).report;
    } finally {
      await ctx.stopServer(peer);
    }
  },
};
