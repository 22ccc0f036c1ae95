import { generateSecret, SecretPrefix } from '../../src/crypto/tokens.js';
import type { Context } from '../lib/context.js';
import { verifyBody } from '../lib/latchkey.js';
import type { Scenario } from '../lib/scenario.js';
import { verifyOk } from './shared.js';

export const baseline: Scenario = {
  name: 'baseline',
  measures:
    'bare Fastify (`bench/servers/baseline.ts`) parsing the same `POST /v1/verify/api-key` bodies and answering a fixed small JSON body: the ceiling of this machine with the same load settings, measured right before `verify_cached` (the ratios of the cached paths divide by it)',
  targets: [],
  server: 'none',
  // With verify_cached selected it measures the baseline right before itself: the machine's load
  // drifts. Under callgrind it goes first, before any Latchkey starts: instructions do not drift,
  // and a Latchkey left idle meanwhile loses its warm code (measured 207k against 179k
  // instructions per cached verification).
  run: async (ctx) => {
    if (ctx.options.callgrind || !ctx.selected('verify_cached')) await measureBaseline(ctx);
  },
};

/** Measures the baseline now, when it is selected and not measured yet. */
export async function measureBaseline(ctx: Context): Promise<void> {
  if (!ctx.selected('baseline') || ctx.scenarios.baseline) return;
  const server = await ctx.startHelper('baseline', 'baseline.ts', {});
  try {
    // Synthetic verification bodies of the real shape: same request bytes, no work.
    const bodies = Array.from({ length: ctx.settings.cachedKeys }, (_, i) =>
      verifyBody({ id: `BENCH${String(i).padStart(11, '0')}`, secret: generateSecret(SecretPrefix.apiKey) }, 'lkc-bench00000'),
    );
    ctx.scenarios.baseline = (
      await ctx.measure(
        server,
        { title: 'baseline', method: 'POST', paths: ['/v1/verify/api-key'], bodies, classify: verifyOk },
        {
          note: 'bare Fastify: parses the same verify request, answers a fixed small JSON body',
        },
      )
    ).report;
  } finally {
    await ctx.stopServer(server);
  }
}
