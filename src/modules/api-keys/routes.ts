import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
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
} from './schemas.js';
import { createApiKey, deleteApiKey, getApiKey, listApiKeys, rotateApiKey, updateApiKey } from './service.js';

const tags = ['api-keys'];

export default async function apiKeyRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/v1/orgs/:org_id/api-keys', {
    config: { auth: 'management', idempotent: true },
    schema: { operationId: 'createApiKey', tags, summary: 'Create an API key; the secret is in this response only', params: orgIdParam, body: createApiKeyBody, response: { 201: createdApiKeySchema } },
  }, async (request, reply) => {
    const { key, secret } = await createApiKey(deps, contextOf(request), request.params.org_id, request.body);
    return reply.code(201).send({ ...presentApiKey(key), secret });
  });

  r.get('/v1/orgs/:org_id/api-keys', {
    config: { auth: 'management' },
    schema: { operationId: 'listApiKeys', tags, summary: 'List API keys', params: orgIdParam, querystring: listApiKeysQuery, response: { 200: listOf(apiKeySchema) } },
  }, async (request) => {
    const { page_size, page_token, ...filters } = request.query;
    const page = await listApiKeys(deps, contextOf(request), request.params.org_id, filters, { page_size, page_token });
    return { data: page.data.map(presentApiKey), next_page_token: page.next_page_token };
  });

  r.get('/v1/orgs/:org_id/api-keys/:key_id', {
    config: { auth: 'management' },
    schema: { operationId: 'getApiKey', tags, summary: 'Get an API key (never its secret)', params: keyParams, response: { 200: apiKeySchema } },
  }, async (request) => presentApiKey(await getApiKey(deps, contextOf(request), request.params.org_id, request.params.key_id)));

  r.patch('/v1/orgs/:org_id/api-keys/:key_id', {
    config: { auth: 'management' },
    schema: { operationId: 'updateApiKey', tags, summary: 'Change display_name or description; other fields are immutable', params: keyParams, body: updateApiKeyBody, response: { 200: apiKeySchema } },
  }, async (request) =>
    presentApiKey(await updateApiKey(deps, contextOf(request), request.params.org_id, request.params.key_id, request.body)),
  );

  r.delete('/v1/orgs/:org_id/api-keys/:key_id', {
    config: { auth: 'management' },
    schema: { operationId: 'deleteApiKey', tags, summary: 'Revoke an API key, effective on every replica within a second', params: keyParams, response: { 204: z.null().describe('Revoked') } },
  }, async (request, reply) => {
    await deleteApiKey(deps, contextOf(request), request.params.org_id, request.params.key_id);
    return reply.code(204).send(null);
  });

  r.post('/v1/orgs/:org_id/api-keys/:key_id/rotate', {
    config: { auth: 'management', idempotent: true },
    schema: { operationId: 'rotateApiKey', tags, summary: 'Issue a new secret; the old one verifies for the grace period', params: keyParams, body: rotateApiKeyBody, response: { 200: rotatedApiKeySchema } },
  }, async (request) => {
    const grace = request.body?.grace_period_seconds ?? 0;
    const { key, secret, previousSecretExpiresAt } = await rotateApiKey(deps, contextOf(request), request.params.org_id, request.params.key_id, grace);
    return { ...presentApiKey(key), secret, previous_secret_expires_at: isoTimeOrNull(previousSecretExpiresAt) };
  });

  r.get('/v1/flink-regions', {
    config: { auth: 'management' },
    schema: {
      operationId: 'listFlinkRegions',
      tags,
      summary: 'Clouds and regions a Flink API key may be scoped to',
      response: { 200: z.object({ data: z.array(z.object({ id: z.string(), cloud: z.string(), region: z.string(), display_name: z.string() })) }) },
    },
  }, async () => ({ data: FLINK_REGIONS.map((r) => ({ id: `${r.cloud}.${r.region}`, ...r })) }));
}
