import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { presentPage } from '../../lib/pagination.js';
import { routesOf } from '../../lib/route.js';
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

const base = '/v1/orgs/:org_id/resources/:cluster_id/access-keys';

export default async function accessKeyRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const route = routesOf(app, { tags: ['access-keys'] });

  route({
    method: 'POST',
    url: base,
    operationId: 'createAccessKey',
    summary: 'Create a Fluvio-style access key on a fluvio_cluster; the key is in this response only',
    auth: 'access_key.manage',
    idempotent: true,
    params: clusterParams,
    body: createAccessKeyBody,
    response: { 201: createdAccessKeySchema },
    handler: async (request, reply) => {
      const { org_id, cluster_id } = request.params;
      const { accessKey, key } = await createAccessKey(deps, contextOf(request), org_id, cluster_id, request.body);
      return reply.code(201).send({ ...presentAccessKey(accessKey), key });
    },
  });

  route({
    method: 'GET',
    url: base,
    operationId: 'listAccessKeys',
    summary: 'List the access keys of a cluster (key_hint only, never the key)',
    auth: 'access_key.manage',
    params: clusterParams,
    querystring: listAccessKeysQuery,
    response: { 200: listOf(accessKeySchema) },
    handler: async (request) =>
      presentPage(await listAccessKeys(deps, contextOf(request), request.params.org_id, request.params.cluster_id, request.query), presentAccessKey),
  });

  route({
    method: 'GET',
    url: `${base}/:name`,
    operationId: 'getAccessKey',
    summary: 'Get an access key (never the key itself)',
    auth: 'access_key.manage',
    params: accessKeyParams,
    response: { 200: accessKeySchema },
    handler: async (request) => {
      const { org_id, cluster_id, name } = request.params;
      return presentAccessKey(await getAccessKey(deps, contextOf(request), org_id, cluster_id, name));
    },
  });

  route({
    method: 'DELETE',
    url: `${base}/:name`,
    operationId: 'deleteAccessKey',
    summary: 'Delete an access key; it stops verifying on every replica within a second',
    auth: 'access_key.manage',
    params: accessKeyParams,
    response: { 204: z.null().describe('Deleted') },
    handler: async (request, reply) => {
      const { org_id, cluster_id, name } = request.params;
      await deleteAccessKey(deps, contextOf(request), org_id, cluster_id, name);
      return reply.code(204).send(null);
    },
  });

  route({
    method: 'POST',
    url: `${base}/:name/rotate`,
    operationId: 'rotateAccessKey',
    summary: 'Issue a new key; the old one verifies for the grace period (a second rotation ends an earlier grace)',
    auth: 'access_key.manage',
    params: accessKeyParams,
    body: rotateAccessKeyBody,
    response: { 200: rotatedAccessKeySchema },
    handler: async (request) => {
      const { org_id, cluster_id, name } = request.params;
      const grace = request.body?.grace_period_seconds ?? 0;
      const { accessKey, key, previousKeyExpiresAt } = await rotateAccessKey(deps, contextOf(request), org_id, cluster_id, name, grace);
      return { ...presentAccessKey(accessKey), key, previous_key_expires_at: isoTimeOrNull(previousKeyExpiresAt) };
    },
  });

  route({
    method: 'POST',
    url: '/v1/verify/access-key',
    operationId: 'verifyAccessKey',
    summary: 'Verify an access key for a WebSocket gateway, fetching its remote key filter (root, or the Verifier role of the key’s organization)',
    auth: 'credential.verify',
    verifyKind: 'access_key',
    tags: ['verify'],
    body: verifyAccessKeyBody,
    response: { 200: accessKeyVerificationSchema },
    handler: (request) => verifyAccessKey(deps, contextOf(request), request.body),
  });
}
