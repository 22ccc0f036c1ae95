import { num } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';
import { enrolledClients } from './enrol.js';

const CLIENTS = 200;

export const details: Scenario = {
  name: 'details',
  measures:
    '`GET /informationservice/details/{client id}` (kdb Insights, no credential but the client id) for 200 enrolled clients in turn, cached after the warm-up',
  server: 'primary',
  targets: [
    {
      target: 'details p99 ≤ 20 ms at 50 connections',
      evaluate: ({ scenarios: { details: measured } }) =>
        measured && {
          ok: num(measured.p99_ms) <= 20 && measured.errors === 0,
          detail: `${measured.rps} req/s, p99 ${measured.p99_ms} ms, ${measured.errors} errors`,
        },
    },
  ],
  run: async (ctx) => {
    const ids = (await enrolledClients(ctx)).slice(0, CLIENTS);
    ctx.scenarios.details = (
      await ctx.measure(
        await ctx.primary(),
        {
          title: 'details',
          method: 'GET',
          paths: ids.map((id) => `/informationservice/details/${id}`),
          classify: (status: number) => (status === 200 ? 'ok' : 'error'),
        },
        { note: `GET /informationservice/details for ${ids.length} clients in turn (cached after the warm-up)` },
      )
    ).report;
  },
};
