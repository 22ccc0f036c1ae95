import type { CreatedKey } from '../lib/latchkey.js';
import { createKeyBodies } from '../lib/latchkey.js';
import type { Outcome } from '../lib/load.js';
import { num } from '../lib/report.js';
import type { Scenario } from '../lib/scenario.js';
import { benchOrg } from './shared.js';

/** The keys create_key made: never verified, the start of verify_cold's set. */
export const COLD_POOL = 'cold-pool';

export const createKey: Scenario = {
  name: 'create_key',
  measures:
    '`POST /v1/orgs/{org}/api-keys`, resource keys for 20 owners in turn; `create_key_one_owner` the same for one owner (informational: creation is serialized per owner for the quota check)',
  alsoWrites: ['create_key_one_owner'],
  server: 'primary',
  targets: [
    {
      target: 'create_key ≥ 100/s',
      evaluate: ({ scenarios: { create_key: create } }) =>
        create && { ok: num(create.rps) >= 100 && create.errors === 0, detail: `${create.rps} keys/s, ${create.errors} errors` },
    },
  ],
  run: async (ctx) => {
    const replicas = await ctx.primary();
    const org = await benchOrg(ctx);
    const fresh: CreatedKey[] = [];
    const createSpec = (title: string, owners: number) => ({
      title,
      method: 'POST' as const,
      headers: { authorization: org.auth },
      paths: [`/v1/orgs/${org.orgId}/api-keys`],
      bodies: createKeyBodies(org, title, owners),
      classify: (status: number, body: string): Outcome => {
        if (status !== 201) return 'error';
        const key = JSON.parse(body) as CreatedKey;
        fresh.push({ id: key.id, secret: key.secret });
        return 'ok';
      },
    });
    ctx.scenarios.create_key = (
      await ctx.measure(replicas, createSpec('create_key', ctx.settings.owners), {
        note: `resource keys for ${ctx.settings.owners} service accounts in turn`,
      })
    ).report;
    // Creation is serialized per owner (quota check under a row lock): one owner is the worst case.
    ctx.scenarios.create_key_one_owner = (
      await ctx.measure(replicas, createSpec('create_key_one_owner', 1), {
        note: 'all creates for one service account (informational)',
      })
    ).report;
    ctx.share(COLD_POOL, fresh);
  },
};
