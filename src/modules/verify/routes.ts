import type { FastifyInstance } from 'fastify';
import pMap from 'p-map';
import { z } from 'zod';
import type { RequestContext } from '../../auth/actor.js';
import { authorize } from '../../auth/policy.js';
import type { Deps } from '../../deps.js';
import type { Eventually } from '../../lib/eventually.js';
import { routesOf } from '../../lib/route.js';
import { contextOf } from '../../plugins/context.js';
import { accessKeyVerificationSchema, verifyAccessKeyBody } from '../access-keys/schemas.js';
import { type AccessKeyVerifyResult, verifyAccessKey } from '../access-keys/service.js';
import { verifyApiKeyBody, verifyResultSchema } from '../api-keys/schemas.js';
import { type VerifyResult, verifyApiKey } from '../api-keys/service.js';
import { clusterKeyVerificationSchema, verifyClusterKeyBody } from '../cluster-keys/schemas.js';
import { type ClusterKeyVerifyResult, verifyClusterKey } from '../cluster-keys/service.js';

const MAX_BATCH_ITEMS = 100;

/** Each item is the body of its single verify route, plus the `kind` that names the route. */
const batchItem = z.discriminatedUnion('kind', [
  verifyApiKeyBody.extend({ kind: z.literal('api_key') }),
  verifyClusterKeyBody.extend({ kind: z.literal('cluster_key') }),
  verifyAccessKeyBody.extend({ kind: z.literal('access_key') }),
]);
type BatchItem = z.infer<typeof batchItem>;

/** The single routes' documented examples, one item of each kind. */
const exampleOf = (schema: z.ZodType) => (schema.meta()?.examples as Array<Record<string, unknown>> | undefined)?.[0];

const verifyBatchBody = z
  .strictObject({
    items: z.array(batchItem).min(1).max(MAX_BATCH_ITEMS).describe(`1 to ${MAX_BATCH_ITEMS} credentials to verify, of any kinds`),
  })
  .meta({
    examples: [
      {
        items: [
          { kind: 'api_key', ...exampleOf(verifyApiKeyBody) },
          { kind: 'cluster_key', ...exampleOf(verifyClusterKeyBody) },
          { kind: 'access_key', ...exampleOf(verifyAccessKeyBody) },
        ],
      },
    ],
  });

const batchVerificationSchema = z
  .object({
    results: z
      .array(z.union([verifyResultSchema, clusterKeyVerificationSchema, accessKeyVerificationSchema]))
      .describe('One per item, in the order of the items: what the item’s single verify route answers'),
  })
  .meta({ id: 'BatchVerification' });

function verifyItem(deps: Deps, ctx: RequestContext, item: BatchItem): Eventually<VerifyResult | ClusterKeyVerifyResult | AccessKeyVerifyResult> {
  switch (item.kind) {
    case 'api_key':
      return verifyApiKey(deps, ctx, item);
    case 'cluster_key':
      return verifyClusterKey(deps, ctx, item);
    case 'access_key':
      return verifyAccessKey(deps, ctx, item);
  }
}

/**
 * `POST /v1/verify/batch`: each item is verified by its single route's service, so it answers,
 * counts failures and is throttled exactly as that route would. An item the single route would
 * refuse with 429 or 503 refuses the whole batch with that status (and Retry-After): results are
 * never partial. Items run at most LATCHKEY_HASH_CONCURRENCY at a time, so a batch holds no more
 * argon2 slots than the pool runs at once and never fills the hash queue ahead of single calls.
 */
export default async function verifyBatchRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  routesOf(app, { tags: ['verify'] })({
    method: 'POST',
    url: '/v1/verify/batch',
    operationId: 'verifyBatch',
    summary: `Verify up to ${MAX_BATCH_ITEMS} API keys, cluster keys and access keys in one call; results in the order of the items (root, or the Verifier role of the credentials’ organization)`,
    auth: 'credential.verify',
    verifyBatch: true,
    body: verifyBatchBody,
    response: { 200: batchVerificationSchema },
    handler: async (request) => {
      const ctx = contextOf(request);
      // Checked once, before any item: a principal that is no Verifier of its own organization gets
      // 403, as on /v1/verify/api-key and /v1/verify/access-key, whatever the items' kinds.
      if (ctx.actor.kind === 'principal') authorize(ctx.actor, 'credential.verify', { orgId: ctx.actor.orgId });
      const results = await pMap(request.body.items, (item) => verifyItem(deps, ctx, item), { concurrency: deps.config.LATCHKEY_HASH_CONCURRENCY });
      return { results };
    },
  });
}
