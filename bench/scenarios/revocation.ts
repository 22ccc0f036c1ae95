import { setTimeout as sleep } from 'node:timers/promises';
import { type BenchOrg, type CreatedKey, seedKeys, verifyBody, warmCache } from '../lib/latchkey.js';
import { backgroundLoad } from '../lib/load.js';
import type { ServerProcess } from '../lib/processes.js';
import { num, round, type ScenarioReport } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';
import { benchOrg, onEach, percentile, verifyOk, warmCachedKeys } from './shared.js';

/** A key still verifying this long after its deletion counts as an error (and as this delay). */
const POLL_LIMIT_MS = 5_000;

/** One verification of `key` on `baseUrl`: its code (VALID while the key still verifies). */
async function verifyCode(baseUrl: string, org: BenchOrg, key: CreatedKey): Promise<string> {
  const response = await fetch(`${baseUrl}/v1/verify/api-key`, {
    method: 'POST',
    headers: { authorization: org.auth, 'content-type': 'application/json' },
    body: verifyBody(key, org.resourceId),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`verify on ${baseUrl} answered ${response.status}: ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { code: string }).code;
}

/** Deletes a key through `via` (the revocation; answered 204). */
async function deleteKey(via: ServerProcess, org: BenchOrg, key: CreatedKey): Promise<void> {
  const deleted = await fetch(`${via.url}/v1/orgs/${org.orgId}/api-keys/${key.id}`, {
    method: 'DELETE',
    headers: { authorization: org.auth },
    signal: AbortSignal.timeout(10_000),
  });
  if (deleted.status !== 204) throw new Error(`DELETE ${key.id} through ${via.name} answered ${deleted.status}: ${await deleted.text()}`);
}

/**
 * How long after `since` `server` stopped answering VALID for `key`, polled back to back: `answered`
 * when its first other answer arrived, `sent` when that request was sent (the revocation had
 * reached the server between the two). Undefined after POLL_LIMIT_MS; `codes` counts the answers.
 */
async function untilRevoked(
  server: ServerProcess,
  org: BenchOrg,
  key: CreatedKey,
  since: number,
  codes: Record<string, number>,
): Promise<{ answered: number; sent: number } | undefined> {
  while (performance.now() - since < POLL_LIMIT_MS) {
    const sent = performance.now() - since;
    const code = await verifyCode(server.url, org, key);
    if (code !== 'VALID') {
      codes[code] = (codes[code] ?? 0) + 1;
      return { answered: performance.now() - since, sent: Math.max(0, sent) };
    }
  }
  return undefined;
}

/** p50/p99/max of the delays, in a results entry; `errors` are the keys that never stopped verifying. */
function delayReport(delays: number[], neverStopped: number, extra: Partial<ScenarioReport>): ScenarioReport {
  delays.sort((x, y) => x - y);
  return {
    rps: null,
    p50_ms: round(percentile(delays, 50), 2),
    p99_ms: round(percentile(delays, 99), 2),
    max_ms: round(delays[delays.length - 1]!, 2),
    errors: neverStopped,
    peak_rss_mb: null,
    responses: delays.length,
    ...extra,
  };
}

const skip = (skipped: string): ScenarioReport => ({ rps: null, p50_ms: null, p99_ms: null, max_ms: null, errors: 0, peak_rss_mb: null, skipped });

const delayTarget = (name: string, what: string) => ({
  target: `${name} p99 ≤ 1,000 ms`,
  evaluate: ({ scenarios }: { scenarios: Record<string, ScenarioReport> }) => {
    const measured = scenarios[name];
    if (!measured || measured.skipped) return undefined;
    return {
      ok: num(measured.p99_ms) <= 1000 && measured.errors === 0,
      detail: `p50 ${measured.p50_ms} ms, p99 ${measured.p99_ms} ms, max ${measured.max_ms} ms, ${measured.errors} ${what}`,
    };
  },
});

export const revocationPropagation: Scenario = {
  name: 'revocation_propagation',
  measures:
    'two Latchkey processes on one Postgres, idle otherwise: each of 50 (full: 200) keys is verified on B (so B caches it), deleted through A, and B is polled back to back until it stops answering `"valid":true`; the delay runs from A\'s 204 (skipped on the embedded store, which is single-process)',
  server: 'primary',
  targets: [delayTarget('revocation_propagation', 'keys never stopped verifying')],
  run: async (ctx) => {
    if (ctx.store.kind !== 'postgres') {
      ctx.scenarios.revocation_propagation = skip('needs two Latchkey processes on one Postgres; the embedded store is single-process (set DATABASE_URL)');
      ctx.log('revocation_propagation skipped: embedded store');
      return;
    }
    const [a] = await ctx.primary();
    const org = await benchOrg(ctx);
    ctx.log(`seeding ${ctx.settings.propagationKeys} keys for revocation_propagation`);
    const { keys } = await seedKeys(a!.url, org, ctx.settings.propagationKeys, { capture: true, label: 'bench-revoked' });
    const b = await ctx.startLatchkey('latchkey-b', 1_000_000);
    try {
      await warmCache(b.url, org.auth, keys, org.resourceId);
      b.resetWindow();
      const delays: number[] = [];
      const codes: Record<string, number> = {};
      let neverStopped = 0;
      for (const key of keys) {
        await deleteKey(a!, org, key);
        const delay = await untilRevoked(b, org, key, performance.now(), codes);
        if (delay === undefined) neverStopped++;
        delays.push(delay?.answered ?? POLL_LIMIT_MS);
      }
      const result = delayReport(delays, neverStopped, {
        peak_rss_mb: round(b.windowPeakMb()),
        server: `${a!.name} → latchkey-b`,
        note: `${delays.length} keys cached on B, each deleted through A; delay from A's 204 to B's first non-valid answer (polled back to back; answers ${JSON.stringify(codes)})`,
      });
      ctx.scenarios.revocation_propagation = result;
      ctx.log(
        `revocation_propagation: p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, max ${result.max_ms} ms, ${neverStopped} keys still valid after ${POLL_LIMIT_MS} ms`,
      );
    } finally {
      await ctx.stopServer(b);
    }
  },
};

export const replicaRevocation: Scenario = {
  name: 'replica_revocation',
  measures:
    "with `--replicas N` (N ≥ 2), under `verify_cached` load spread over the replicas: each of 20 (full: 100) keys, cached on every replica, is deleted through one replica in turn, and every replica is polled back to back until it stops answering VALID; the delay is the slowest replica's, from the 204",
  server: 'primary',
  targets: [delayTarget('replica_revocation', 'keys still verifying somewhere or verification errors')],
  run: async (ctx) => {
    const replicas = await ctx.primary();
    if (replicas.length < 2) {
      ctx.scenarios.replica_revocation = skip('needs --replicas 2 or more (on Postgres)');
      ctx.log('replica_revocation skipped: one replica');
      return;
    }
    const org = await benchOrg(ctx);
    const [a] = replicas;
    ctx.log(`seeding ${ctx.settings.replicaRevocationKeys} keys for replica_revocation`);
    const { keys } = await seedKeys(a!.url, org, ctx.settings.replicaRevocationKeys, { capture: true, label: 'bench-replica-revoked' });
    await onEach(replicas, (server) => warmCache(server.url, org.auth, keys, org.resourceId));
    const loadKeys = await warmCachedKeys(ctx);

    for (const server of replicas) server.resetWindow();
    const background = backgroundLoad({
      title: 'replica_revocation background verify_cached',
      baseUrl: replicas.map((server) => server.url),
      method: 'POST',
      headers: { authorization: org.auth },
      paths: ['/v1/verify/api-key'],
      bodies: loadKeys.map((key) => verifyBody(key, org.resourceId)),
      connections: ctx.settings.connections,
      durationSeconds: 600,
      classify: verifyOk,
    });
    const delays: number[] = [];
    const sentDelays: number[] = [];
    const codes: Record<string, number> = {};
    let neverStopped = 0;
    try {
      await sleep(ctx.settings.warmupSeconds * 1000);
      for (const [i, key] of keys.entries()) {
        await deleteKey(replicas[i % replicas.length]!, org, key);
        const since = performance.now();
        const perReplica = await Promise.all(replicas.map((server) => untilRevoked(server, org, key, since, codes)));
        if (perReplica.some((delay) => delay === undefined)) neverStopped++;
        delays.push(Math.max(...perReplica.map((delay) => delay?.answered ?? POLL_LIMIT_MS)));
        sentDelays.push(Math.max(...perReplica.map((delay) => delay?.sent ?? POLL_LIMIT_MS)));
      }
    } catch (error) {
      await background.stop().catch(() => undefined);
      throw error;
    }
    const load = await background.stop();
    const result = delayReport(delays, neverStopped + load.errors, {
      peak_rss_mb: round(Math.max(...replicas.map((server) => server.windowPeakMb()))),
      background_rps: round(load.rps),
      server: replicas.map((server) => server.name).join('+'),
      note: `${delays.length} keys cached on all ${replicas.length} replicas, each deleted through one in turn under ${round(load.rps)} req/s of verify_cached load (${load.errors} load errors); delay from the 204 to the last replica's first non-valid answer, which includes that answer's own queueing behind the load (to the sending of that request instead: p50 ${round(
        percentile(
          sentDelays.sort((x, y) => x - y),
          50,
        ),
        2,
      )} ms, p99 ${round(percentile(sentDelays, 99), 2)} ms; answers ${JSON.stringify(codes)})`,
    });
    ctx.scenarios.replica_revocation = result;
    ctx.log(
      `replica_revocation: p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms, max ${result.max_ms} ms under ${result.background_rps} req/s; ${neverStopped} keys still valid somewhere after ${POLL_LIMIT_MS} ms`,
    );
    if (load.firstError) ctx.log(`replica_revocation: first unexpected answer of the load: ${load.firstError}`);
  },
};
