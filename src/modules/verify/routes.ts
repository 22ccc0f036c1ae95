import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { routesOf } from '../../lib/route.js';
import { contextOf } from '../../plugins/context.js';
import { apiKeyScope } from '../api-keys/schemas.js';
import { verifyApiKey } from './service.js';

export const verifyApiKeyBody = z
  .strictObject({
    key: z.string().max(64).describe('API key id'),
    secret: z.string().max(256),
    resource_id: z.string().min(1).max(160).describe('What the caller guards: a resource id, `cloud`, or `env-xxx.<cloud>.<region>`'),
  })
  .meta({ examples: [{ key: 'AVB70UZ0J0HSHWNR', secret: 'lks_5ga6jf2kadQPco0DrO9BDgjFi5W9EczWzVNDYUanNe512YUdx', resource_id: 'lkc-v3kb92fbb4' }] });

export const verifyResultSchema = z
  .object({
    valid: z.boolean(),
    code: z.enum(['VALID', 'INVALID', 'EXPIRED', 'REVOKED', 'WRONG_RESOURCE']),
    key: z.object({ id: z.string(), type: z.enum(['cloud', 'resource', 'flink']), scope: apiKeyScope, expires_at: z.string().nullable() }).optional(),
    principal: z.object({ id: z.string(), type: z.enum(['service_account', 'user']) }).optional(),
    org_id: z.string().optional(),
  })
  .meta({ id: 'ApiKeyVerification' });

export default async function verifyRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  routesOf(app, { tags: ['verify'] })({
    method: 'POST',
    url: '/v1/verify/api-key',
    operationId: 'verifyApiKey',
    summary: 'Verify an API key secret for a resource (root, or the Verifier role of the key’s organization)',
    auth: 'credential.verify',
    verifyKind: 'api_key',
    body: verifyApiKeyBody,
    response: { 200: verifyResultSchema },
    handler: async (request) => verifyApiKey(deps, contextOf(request), request.body),
  });
}
