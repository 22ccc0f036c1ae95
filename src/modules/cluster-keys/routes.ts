import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { DomainError } from '../../errors.js';
import { presentPage } from '../../lib/pagination.js';
import { routesOf } from '../../lib/route.js';
import { contextOf } from '../../plugins/context.js';
import { listOf, problemSchema } from '../../schemas/common.js';
import {
  clusterKeyParams,
  clusterKeySchema,
  clusterKeyVerificationSchema,
  createClusterKeyBody,
  createdClusterKeySchema,
  createSigningKeyBody,
  jwksSchema,
  listClusterKeysQuery,
  openIdConfigurationSchema,
  orgParams,
  presentClusterKey,
  revocationsQuery,
  revocationsSchema,
  signingKeySchema,
  verifyClusterKeyBody,
} from './schemas.js';
import {
  activePublicKeyPem,
  createClusterKey,
  createSigningKey,
  deleteClusterKey,
  etagOf,
  getClusterKey,
  jwks,
  listClusterKeys,
  listSigningKeys,
  openIdConfiguration,
  revocationFeed,
  revokeClusterKey,
  verifyClusterKey,
} from './service.js';

const base = '/v1/orgs/:org_id/cluster-keys';

/** Answers 304 when the caller holds this representation already; otherwise sends it with its ETag. */
function sendWithEtag(request: FastifyRequest, reply: FastifyReply, body: string, contentType: string, cacheControl?: string) {
  const etag = etagOf(body);
  reply.header('etag', etag);
  if (cacheControl) reply.header('cache-control', cacheControl);
  const presented = request.headers['if-none-match'];
  if (presented?.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) return reply.code(304).send();
  return reply.type(contentType).send(body);
}

const PUBLIC_CACHE = 'public, max-age=300';

export default async function clusterKeyRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const route = routesOf(app, { tags: ['cluster-keys'] });

  route({
    method: 'POST',
    url: base,
    operationId: 'createClusterKey',
    summary: 'Create a cluster key (a signed JWT for one Pulsar cluster); the token is in this response only',
    auth: 'cluster_key.manage',
    idempotent: true,
    params: orgParams,
    body: createClusterKeyBody,
    response: { 201: createdClusterKeySchema },
    handler: async (request, reply) => {
      const { key, token } = await createClusterKey(deps, contextOf(request), request.params.org_id, request.body);
      return reply.code(201).send({ ...presentClusterKey(key), token });
    },
  });

  route({
    method: 'GET',
    url: base,
    operationId: 'listClusterKeys',
    summary: 'List cluster keys (revoked keys stay listed for the retention period)',
    auth: 'cluster_key.manage',
    params: orgParams,
    querystring: listClusterKeysQuery,
    response: { 200: listOf(clusterKeySchema) },
    handler: async (request) => {
      const { page_size, page_token, ...filters } = request.query;
      const page = await listClusterKeys(deps, contextOf(request), request.params.org_id, filters, { page_size, page_token });
      return presentPage(page, presentClusterKey);
    },
  });

  route({
    method: 'GET',
    url: `${base}/signing-keys`,
    operationId: 'listClusterSigningKeys',
    summary: "List the organization's cluster-key signing keys (OrganizationAdmin)",
    auth: 'signing_key.manage',
    params: orgParams,
    response: { 200: listOf(signingKeySchema) },
    handler: async (request) => listSigningKeys(deps, contextOf(request), request.params.org_id),
  });

  route({
    method: 'POST',
    url: `${base}/signing-keys`,
    operationId: 'createClusterSigningKey',
    summary: 'Make a new signing key: in the JWKS at once, signing from activate_at (OrganizationAdmin)',
    auth: 'signing_key.manage',
    idempotent: true,
    params: orgParams,
    body: createSigningKeyBody,
    response: { 201: signingKeySchema },
    handler: async (request, reply) => reply.code(201).send(await createSigningKey(deps, contextOf(request), request.params.org_id, request.body ?? {})),
  });

  route({
    method: 'GET',
    url: `${base}/revocations`,
    operationId: 'listClusterKeyRevocations',
    summary: 'Revoked, unexpired cluster keys, for brokers and gateways (Verifier or admin); ETag and If-None-Match',
    auth: 'cluster_key.read_revocations',
    params: orgParams,
    querystring: revocationsQuery,
    response: { 200: revocationsSchema, 304: z.null().describe('Not modified') },
    handler: async (request, reply) => {
      const feed = await revocationFeed(deps, contextOf(request), request.params.org_id, request.query.cluster_id);
      return sendWithEtag(request, reply, JSON.stringify(feed), 'application/json; charset=utf-8');
    },
  });

  route({
    method: 'GET',
    url: `${base}/public-key.pem`,
    operationId: 'getClusterKeyPublicKey',
    summary: 'The active signing key in SPKI PEM (Pulsar tokenPublicKey); public and cacheable',
    auth: 'public',
    params: orgParams,
    produces: ['application/x-pem-file'],
    response: { 200: z.string().describe('SPKI PEM'), 304: z.null().describe('Not modified'), 404: problemSchema },
    handler: async (request, reply) =>
      sendWithEtag(request, reply, await activePublicKeyPem(deps, request.params.org_id), 'application/x-pem-file', PUBLIC_CACHE),
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/.well-known/jwks.json',
    operationId: 'getClusterKeyJwks',
    summary: 'Every signing key a live cluster key may carry; public and cacheable',
    auth: 'public',
    params: orgParams,
    response: { 200: jwksSchema, 304: z.null().describe('Not modified'), 404: problemSchema },
    handler: async (request, reply) =>
      sendWithEtag(request, reply, JSON.stringify(await jwks(deps, request.params.org_id)), 'application/json; charset=utf-8', PUBLIC_CACHE),
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/.well-known/openid-configuration',
    operationId: 'getClusterKeyOpenIdConfiguration',
    summary: 'OpenID discovery for cluster keys (issuer, jwks_uri); public and cacheable',
    auth: 'public',
    params: orgParams,
    response: { 200: openIdConfigurationSchema, 304: z.null().describe('Not modified'), 404: problemSchema },
    handler: async (request, reply) =>
      sendWithEtag(request, reply, JSON.stringify(await openIdConfiguration(deps, request.params.org_id)), 'application/json; charset=utf-8', PUBLIC_CACHE),
  });

  route({
    method: 'GET',
    url: `${base}/:key_id`,
    operationId: 'getClusterKey',
    summary: 'Get a cluster key (never its token)',
    auth: 'cluster_key.manage',
    params: clusterKeyParams,
    response: { 200: clusterKeySchema },
    handler: async (request) => presentClusterKey(await getClusterKey(deps, contextOf(request), request.params.org_id, request.params.key_id)),
  });

  route({
    method: 'PATCH',
    url: `${base}/:key_id`,
    operationId: 'updateClusterKey',
    summary: 'Not supported: cluster keys are immutable (405); create a new key instead',
    auth: 'cluster_key.manage',
    params: clusterKeyParams,
    response: { 405: problemSchema },
    handler: async (request, reply) => {
      // Another tenant's key stays absent (404) rather than immutable.
      await getClusterKey(deps, contextOf(request), request.params.org_id, request.params.key_id);
      reply.header('allow', 'GET, DELETE');
      throw new DomainError('method_not_allowed', 'cluster keys are immutable: a token carries its claims; create a new key and delete this one');
    },
  });

  route({
    method: 'DELETE',
    url: `${base}/:key_id`,
    operationId: 'deleteClusterKey',
    summary: 'Revoke a cluster key and remove it from listings at once',
    auth: 'cluster_key.manage',
    params: clusterKeyParams,
    response: { 204: z.null().describe('Deleted') },
    handler: async (request, reply) => {
      await deleteClusterKey(deps, contextOf(request), request.params.org_id, request.params.key_id);
      return reply.code(204).send(null);
    },
  });

  route({
    method: 'POST',
    url: `${base}/:key_id/revoke`,
    operationId: 'revokeClusterKey',
    summary: 'Revoke a cluster key: REVOKED on every replica within a second; listed for the retention period',
    auth: 'cluster_key.manage',
    params: clusterKeyParams,
    response: { 200: clusterKeySchema },
    handler: async (request) => presentClusterKey(await revokeClusterKey(deps, contextOf(request), request.params.org_id, request.params.key_id)),
  });

  route({
    method: 'POST',
    url: '/v1/verify/cluster-key',
    operationId: 'verifyClusterKey',
    summary: 'Verify a cluster key for a Pulsar cluster (root, or the Verifier role of the key’s organization)',
    auth: 'credential.verify',
    verifyKind: 'cluster_key',
    tags: ['verify'],
    body: verifyClusterKeyBody,
    response: { 200: clusterKeyVerificationSchema },
    handler: (request) => verifyClusterKey(deps, contextOf(request), request.body),
  });
}
