import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { contextOf } from '../../plugins/context.js';
import { isoTimeOrNull, listOf } from '../../schemas/common.js';
import {
  accessKeyParams,
  accessKeySchema,
  accessKeyVerificationSchema,
  clusterParams,
  createAccessKeyBody,
  createdAccessKeySchema,
  listAccessKeysQuery,
  presentAccessKey,
  rotateAccessKeyBody,
  rotatedAccessKeySchema,
  verifyAccessKeyBody,
} from './schemas.js';
import { createAccessKey, deleteAccessKey, getAccessKey, listAccessKeys, rotateAccessKey, verifyAccessKey } from './service.js';

const tags = ['access-keys'];
const base = '/v1/orgs/:org_id/resources/:cluster_id/access-keys';

export default async function accessKeyRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(base, {
    config: { auth: 'management', idempotent: true },
    schema: { operationId: 'createAccessKey', tags, summary: 'Create a Fluvio-style access key on a fluvio_cluster; the key is in this response only', params: clusterParams, body: createAccessKeyBody, response: { 201: createdAccessKeySchema } },
  }, async (request, reply) => {
    const { org_id, cluster_id } = request.params;
    const { accessKey, key } = await createAccessKey(deps, contextOf(request), org_id, cluster_id, request.body);
    return reply.code(201).send({ ...presentAccessKey(accessKey), key });
  });

  r.get(base, {
    config: { auth: 'management' },
    schema: { operationId: 'listAccessKeys', tags, summary: 'List the access keys of a cluster (key_hint only, never the key)', params: clusterParams, querystring: listAccessKeysQuery, response: { 200: listOf(accessKeySchema) } },
  }, async (request) => {
    const page = await listAccessKeys(deps, contextOf(request), request.params.org_id, request.params.cluster_id, request.query);
    return { data: page.data.map(presentAccessKey), next_page_token: page.next_page_token };
  });

  r.get(`${base}/:name`, {
    config: { auth: 'management' },
    schema: { operationId: 'getAccessKey', tags, summary: 'Get an access key (never the key itself)', params: accessKeyParams, response: { 200: accessKeySchema } },
  }, async (request) => {
    const { org_id, cluster_id, name } = request.params;
    return presentAccessKey(await getAccessKey(deps, contextOf(request), org_id, cluster_id, name));
  });

  r.delete(`${base}/:name`, {
    config: { auth: 'management' },
    schema: { operationId: 'deleteAccessKey', tags, summary: 'Delete an access key; it stops verifying on every replica within a second', params: accessKeyParams, response: { 204: z.null().describe('Deleted') } },
  }, async (request, reply) => {
    const { org_id, cluster_id, name } = request.params;
    await deleteAccessKey(deps, contextOf(request), org_id, cluster_id, name);
    return reply.code(204).send(null);
  });

  r.post(`${base}/:name/rotate`, {
    config: { auth: 'management' },
    schema: { operationId: 'rotateAccessKey', tags, summary: 'Issue a new key; the old one verifies for the grace period (a second rotation ends an earlier grace)', params: accessKeyParams, body: rotateAccessKeyBody, response: { 200: rotatedAccessKeySchema } },
  }, async (request) => {
    const { org_id, cluster_id, name } = request.params;
    const grace = request.body?.grace_period_seconds ?? 0;
    const { accessKey, key, previousKeyExpiresAt } = await rotateAccessKey(deps, contextOf(request), org_id, cluster_id, name, grace);
    return { ...presentAccessKey(accessKey), key, previous_key_expires_at: isoTimeOrNull(previousKeyExpiresAt) };
  });

  r.post('/v1/verify/access-key', {
    config: { auth: 'management', verifyKind: 'access_key' },
    schema: {
      operationId: 'verifyAccessKey',
      tags: ['verify'],
      summary: 'Verify an access key for a WebSocket gateway, fetching its remote key filter (root, or the Verifier role of the key’s organization)',
      body: verifyAccessKeyBody,
      response: { 200: accessKeyVerificationSchema },
    },
  }, async (request) => verifyAccessKey(deps, contextOf(request), request.body));
}
