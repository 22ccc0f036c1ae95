import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { presentPage } from '../../lib/pagination.js';
import { routesOf } from '../../lib/route.js';
import { contextOf } from '../../plugins/context.js';
import { isoTimeOrNull, listOf, orgIdParam } from '../../schemas/common.js';
import { FLINK_REGIONS } from './flink-regions.js';
import {
  apiKeySchema,
  createApiKeyBody,
  createdApiKeySchema,
  keyParams,
  listApiKeysQuery,
  presentApiKey,
  rotateApiKeyBody,
  rotatedApiKeySchema,
  updateApiKeyBody,
  verifyApiKeyBody,
  verifyResultSchema,
} from './schemas.js';
import { createApiKey, deleteApiKey, getApiKey, listApiKeys, rotateApiKey, updateApiKey, verifyApiKey } from './service.js';

export default async function apiKeyRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const route = routesOf(app, { tags: ['api-keys'] });

  route({
    method: 'POST',
    url: '/v1/orgs/:org_id/api-keys',
    operationId: 'createApiKey',
    summary: 'Create an API key; the secret is in this response only',
    auth: 'api_key.manage_scoped',
    idempotent: true,
    params: orgIdParam,
    body: createApiKeyBody,
    response: { 201: createdApiKeySchema },
    handler: async (request, reply) => {
      const { key, secret } = await createApiKey(deps, contextOf(request), request.params.org_id, request.body);
      return reply.code(201).send({ ...presentApiKey(key), secret });
    },
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/api-keys',
    operationId: 'listApiKeys',
    summary: 'List API keys',
    auth: 'api_key.manage_scoped',
    params: orgIdParam,
    querystring: listApiKeysQuery,
    response: { 200: listOf(apiKeySchema) },
    handler: async (request) => {
      const { page_size, page_token, ...filters } = request.query;
      const page = await listApiKeys(deps, contextOf(request), request.params.org_id, filters, { page_size, page_token });
      return presentPage(page, presentApiKey);
    },
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/api-keys/:key_id',
    operationId: 'getApiKey',
    summary: 'Get an API key (never its secret)',
    auth: 'api_key.manage_scoped',
    params: keyParams,
    response: { 200: apiKeySchema },
    handler: async (request) => presentApiKey(await getApiKey(deps, contextOf(request), request.params.org_id, request.params.key_id)),
  });

  route({
    method: 'PATCH',
    url: '/v1/orgs/:org_id/api-keys/:key_id',
    operationId: 'updateApiKey',
    summary: 'Change display_name or description; other fields are immutable',
    auth: 'api_key.manage_scoped',
    params: keyParams,
    body: updateApiKeyBody,
    response: { 200: apiKeySchema },
    handler: async (request) => presentApiKey(await updateApiKey(deps, contextOf(request), request.params.org_id, request.params.key_id, request.body)),
  });

  route({
    method: 'DELETE',
    url: '/v1/orgs/:org_id/api-keys/:key_id',
    operationId: 'deleteApiKey',
    summary: 'Revoke an API key, effective on every replica within a second',
    auth: 'api_key.manage_scoped',
    params: keyParams,
    response: { 204: z.null().describe('Revoked') },
    handler: async (request, reply) => {
      await deleteApiKey(deps, contextOf(request), request.params.org_id, request.params.key_id);
      return reply.code(204).send(null);
    },
  });

  route({
    method: 'POST',
    url: '/v1/orgs/:org_id/api-keys/:key_id/rotate',
    operationId: 'rotateApiKey',
    summary: 'Issue a new secret; the old one verifies for the grace period',
    auth: 'api_key.manage_scoped',
    idempotent: true,
    params: keyParams,
    body: rotateApiKeyBody,
    response: { 200: rotatedApiKeySchema },
    handler: async (request) => {
      const grace = request.body?.grace_period_seconds ?? 0;
      const { key, secret, previousSecretExpiresAt } = await rotateApiKey(deps, contextOf(request), request.params.org_id, request.params.key_id, grace);
      return { ...presentApiKey(key), secret, previous_secret_expires_at: isoTimeOrNull(previousSecretExpiresAt) };
    },
  });

  route({
    method: 'GET',
    url: '/v1/flink-regions',
    operationId: 'listFlinkRegions',
    summary: 'Clouds and regions a Flink API key may be scoped to',
    auth: 'org.read',
    response: { 200: z.object({ data: z.array(z.object({ id: z.string(), cloud: z.string(), region: z.string(), display_name: z.string() })) }) },
    handler: async () => ({ data: FLINK_REGIONS.map((r) => ({ id: `${r.cloud}.${r.region}`, ...r })) }),
  });

  route({
    method: 'POST',
    url: '/v1/verify/api-key',
    tags: ['verify'],
    operationId: 'verifyApiKey',
    summary: 'Verify an API key secret for a resource (root, or the Verifier role of the key’s organization)',
    auth: 'credential.verify',
    verifyKind: 'api_key',
    body: verifyApiKeyBody,
    response: { 200: verifyResultSchema },
    handler: (request) => verifyApiKey(deps, contextOf(request), request.body),
  });
}
