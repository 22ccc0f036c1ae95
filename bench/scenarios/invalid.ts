import { generateSecret, SecretPrefix } from '../../src/crypto/tokens.js';
import type { Context } from '../lib/context.js';
import { type CreatedKey, seedKeys, verifyBody, warmCache } from '../lib/latchkey.js';
import { type Outcome, runLoad } from '../lib/load.js';
import { fromLoad, num, ratio, round } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';
import { benchOrg, cachedKeys, verifyOk } from './shared.js';

/** The real key ids verify_invalid sends wrong secrets for. */
function attackTargets(ctx: Context): Promise<CreatedKey[]> {
  return ctx.once('attack-targets', async () => {
    const [a] = await ctx.primary();
    ctx.log(`seeding ${ctx.settings.invalidKeys} keys whose ids verify_invalid attacks`);
    return (await seedKeys(a!.url, await benchOrg(ctx), ctx.settings.invalidKeys, { capture: true, label: 'bench-attacked' })).keys;
  });
}

export const verifyInvalid: Scenario = {
  name: 'verify_invalid',
  measures:
    "on a restart of Latchkey with the default failure limits: `verify_cached_before_attack` (the reference), `verify_invalid` (well-formed but wrong secrets, four per key id for 200 (full: 500) real key ids; req/s counts INVALID and 429 answers), then both streams at once from the same address (`verify_cached_during_attack`, `verify_invalid_during_attack`; each 429 is held back `LATCHKEY_RATE_LIMITED_DELAY_MS`, so the attackers' low req/s is the defence working)",
  alsoWrites: ['verify_cached_before_attack', 'verify_cached_during_attack', 'verify_invalid_during_attack'],
  server: 'restart',
  ratios: { verify_cached_during_attack_vs_before: (s) => ratio(s.verify_cached_during_attack?.rps, s.verify_cached_before_attack?.rps) },
  targets: [
    {
      target: 'verify_invalid answers 429/INVALID without 5xx',
      evaluate: ({ scenarios: { verify_invalid: invalid } }) =>
        invalid && {
          ok: invalid.errors === 0,
          detail: `${invalid.errors} other answers; statuses ${JSON.stringify(invalid.statuses)}${invalid.first_error ? `; first: ${invalid.first_error}` : ''}`,
        },
    },
    {
      target: 'verify_invalid degrades verify_cached by at most half',
      evaluate: (report) => {
        const { verify_cached_during_attack: attacked, verify_cached_before_attack: before } = report.scenarios;
        if (!attacked || !before) return undefined;
        const r = num(report.ratios.verify_cached_during_attack_vs_before);
        return {
          ok: r >= 0.5 && attacked.errors === 0,
          detail: `${attacked.rps} req/s during attack vs ${before.rps} before = ${r}×, ${attacked.errors} errors`,
        };
      },
    },
    {
      target: 'verify_invalid (mixed) without 5xx',
      evaluate: ({ scenarios: { verify_invalid_during_attack: attack } }) =>
        attack && { ok: attack.errors === 0, detail: `${attack.errors} other answers; statuses ${JSON.stringify(attack.statuses)}` },
    },
  ],
  seed: async (ctx) => {
    await cachedKeys(ctx);
    await attackTargets(ctx);
  },
  run: async (ctx) => {
    const s = ctx.scenarios;
    const { settings } = ctx;
    const [org, keys, targets] = await Promise.all([benchOrg(ctx), cachedKeys(ctx), attackTargets(ctx)]);
    const c = await ctx.startLatchkey('latchkey-c', undefined);
    try {
      const headers = { authorization: org.auth };
      ctx.log(`latchkey-c runs with the default LATCHKEY_AUTH_FAILURES_PER_MINUTE; re-verifying ${keys.length} keys to fill its cache`);
      await warmCache(c.url, org.auth, keys, org.resourceId);
      const cachedSpec = {
        method: 'POST' as const,
        headers,
        paths: ['/v1/verify/api-key'],
        bodies: keys.map((key) => verifyBody(key, org.resourceId)),
        classify: verifyOk,
      };
      // Wrong but well-formed secrets (valid checksum), four per attacked key id: what a guesser sends.
      const attackSpec = {
        method: 'POST' as const,
        headers,
        paths: ['/v1/verify/api-key'],
        bodies: targets.flatMap((key) =>
          Array.from({ length: 4 }, () => verifyBody({ id: key.id, secret: generateSecret(SecretPrefix.apiKey) }, org.resourceId)),
        ),
        classify: (status: number, body: string): Outcome => (status === 429 ? 'intended' : status === 200 && body.includes('"valid":false') ? 'ok' : 'error'),
      };
      const before = await ctx.measure(
        c,
        { title: 'verify_cached_before_attack', ...cachedSpec },
        { note: 'verify_cached again, on a replica with the default failure limit' },
      );
      s.verify_cached_before_attack = before.report;
      const alone = await ctx.measure(
        c,
        { title: 'verify_invalid', ...attackSpec },
        {
          warmup: false,
          note: `wrong secrets for ${targets.length} valid key ids; req/s counts INVALID and 429 answers`,
        },
      );
      s.verify_invalid = { ...alone.report, rps: round(alone.result.responsesPerSecond) };

      c.resetWindow();
      const run = (title: string, spec: typeof cachedSpec | typeof attackSpec) =>
        runLoad({ title, baseUrl: c.url, connections: settings.connections, durationSeconds: settings.durationSeconds, ...spec });
      const [cachedRun, attackRun] = await Promise.all([run('verify_cached_during_attack', cachedSpec), run('verify_invalid_during_attack', attackSpec)]);
      const peak = c.windowPeakMb();
      s.verify_cached_during_attack = fromLoad(cachedRun, {
        peakRssMb: peak,
        connections: settings.connections,
        server: c.name,
        note: 'cached verifications while verify_invalid runs on the same replica, both from 127.0.0.1',
      });
      s.verify_invalid_during_attack = {
        ...fromLoad(attackRun, { peakRssMb: peak, connections: settings.connections, server: c.name }),
        rps: round(attackRun.responsesPerSecond),
      };
      ctx.log(
        `verify_cached_during_attack: ${s.verify_cached_during_attack.rps} req/s (before: ${before.report.rps}), p99 ${s.verify_cached_during_attack.p99_ms} ms, statuses ${JSON.stringify(cachedRun.statuses)}`,
      );
      ctx.log(`verify_invalid_during_attack: ${s.verify_invalid_during_attack.rps} answers/s, statuses ${JSON.stringify(attackRun.statuses)}`);
    } finally {
      await ctx.stopServer(c);
    }
  },
};
