import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { DomainError } from '../../errors.js';
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

const tags = ['cluster-keys'];
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
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(base, {
    config: { auth: 'management', idempotent: true },
    schema: { operationId: 'createClusterKey', tags, summary: 'Create a cluster key (a signed JWT for one Pulsar cluster); the token is in this response only', params: orgParams, body: createClusterKeyBody, response: { 201: createdClusterKeySchema } },
  }, async (request, reply) => {
    const { key, token } = await createClusterKey(deps, contextOf(request), request.params.org_id, request.body);
    return reply.code(201).send({ ...presentClusterKey(key), token });
  });

  r.get(base, {
    config: { auth: 'management' },
    schema: { operationId: 'listClusterKeys', tags, summary: 'List cluster keys (revoked keys stay listed for the retention period)', params: orgParams, querystring: listClusterKeysQuery, response: { 200: listOf(clusterKeySchema) } },
  }, async (request) => {
    const { page_size, page_token, ...filters } = request.query;
    const page = await listClusterKeys(deps, contextOf(request), request.params.org_id, filters, { page_size, page_token });
    return { data: page.data.map(presentClusterKey), next_page_token: page.next_page_token };
  });

  r.get(`${base}/signing-keys`, {
    config: { auth: 'management' },
    schema: { operationId: 'listClusterSigningKeys', tags, summary: 'List the organization\'s cluster-key signing keys (OrganizationAdmin)', params: orgParams, response: { 200: listOf(signingKeySchema) } },
  }, async (request) => listSigningKeys(deps, contextOf(request), request.params.org_id));

  r.post(`${base}/signing-keys`, {
    config: { auth: 'management', idempotent: true },
    schema: { operationId: 'createClusterSigningKey', tags, summary: 'Make a new signing key: in the JWKS at once, signing from activate_at (OrganizationAdmin)', params: orgParams, body: createSigningKeyBody, response: { 201: signingKeySchema } },
  }, async (request, reply) => reply.code(201).send(await createSigningKey(deps, contextOf(request), request.params.org_id, request.body ?? {})));

  r.get(`${base}/revocations`, {
    config: { auth: 'management' },
    schema: { operationId: 'listClusterKeyRevocations', tags, summary: 'Revoked, unexpired cluster keys, for brokers and gateways (Verifier or admin); ETag and If-None-Match', params: orgParams, querystring: revocationsQuery, response: { 200: revocationsSchema, 304: z.null().describe('Not modified') } },
  }, async (request, reply) => {
    const feed = await revocationFeed(deps, contextOf(request), request.params.org_id, request.query.cluster_id);
    return sendWithEtag(request, reply, JSON.stringify(feed), 'application/json; charset=utf-8');
  });

  r.get(`${base}/public-key.pem`, {
    config: { auth: 'public' },
    schema: { operationId: 'getClusterKeyPublicKey', tags, summary: 'The active signing key in SPKI PEM (Pulsar tokenPublicKey); public and cacheable', params: orgParams, produces: ['application/x-pem-file'], response: { 200: z.string().describe('SPKI PEM'), 304: z.null().describe('Not modified'), 404: problemSchema } },
  }, async (request, reply) => sendWithEtag(request, reply, await activePublicKeyPem(deps, request.params.org_id), 'application/x-pem-file', PUBLIC_CACHE));

  r.get('/v1/orgs/:org_id/.well-known/jwks.json', {
    config: { auth: 'public' },
    schema: { operationId: 'getClusterKeyJwks', tags, summary: 'Every signing key a live cluster key may carry; public and cacheable', params: orgParams, response: { 200: jwksSchema, 304: z.null().describe('Not modified'), 404: problemSchema } },
  }, async (request, reply) => sendWithEtag(request, reply, JSON.stringify(await jwks(deps, request.params.org_id)), 'application/json; charset=utf-8', PUBLIC_CACHE));

  r.get('/v1/orgs/:org_id/.well-known/openid-configuration', {
    config: { auth: 'public' },
    schema: { operationId: 'getClusterKeyOpenIdConfiguration', tags, summary: 'OpenID discovery for cluster keys (issuer, jwks_uri); public and cacheable', params: orgParams, response: { 200: openIdConfigurationSchema, 304: z.null().describe('Not modified'), 404: problemSchema } },
  }, async (request, reply) =>
    sendWithEtag(request, reply, JSON.stringify(await openIdConfiguration(deps, request.params.org_id)), 'application/json; charset=utf-8', PUBLIC_CACHE),
  );

  r.get(`${base}/:key_id`, {
    config: { auth: 'management' },
    schema: { operationId: 'getClusterKey', tags, summary: 'Get a cluster key (never its token)', params: clusterKeyParams, response: { 200: clusterKeySchema } },
  }, async (request) => presentClusterKey(await getClusterKey(deps, contextOf(request), request.params.org_id, request.params.key_id)));

  r.patch(`${base}/:key_id`, {
    config: { auth: 'management' },
    schema: { operationId: 'updateClusterKey', tags, summary: 'Not supported: cluster keys are immutable (405); create a new key instead', params: clusterKeyParams, response: { 405: problemSchema } },
  }, async (request, reply) => {
    // Another tenant's key stays absent (404) rather than immutable.
    await getClusterKey(deps, contextOf(request), request.params.org_id, request.params.key_id);
    reply.header('allow', 'GET, DELETE');
    throw new DomainError('method_not_allowed', 'cluster keys are immutable: a token carries its claims; create a new key and delete this one');
  });

  r.delete(`${base}/:key_id`, {
    config: { auth: 'management' },
    schema: { operationId: 'deleteClusterKey', tags, summary: 'Revoke a cluster key and remove it from listings at once', params: clusterKeyParams, response: { 204: z.null().describe('Deleted') } },
  }, async (request, reply) => {
    await deleteClusterKey(deps, contextOf(request), request.params.org_id, request.params.key_id);
    return reply.code(204).send(null);
  });

  r.post(`${base}/:key_id/revoke`, {
    config: { auth: 'management' },
    schema: { operationId: 'revokeClusterKey', tags, summary: 'Revoke a cluster key: REVOKED on every replica within a second; listed for the retention period', params: clusterKeyParams, response: { 200: clusterKeySchema } },
  }, async (request) => presentClusterKey(await revokeClusterKey(deps, contextOf(request), request.params.org_id, request.params.key_id)));

  r.post('/v1/verify/cluster-key', {
    config: { auth: 'management', verifyKind: 'cluster_key' },
    schema: {
      operationId: 'verifyClusterKey',
      tags: ['verify'],
      summary: 'Verify a cluster key for a Pulsar cluster (root, or the Verifier role of the key’s organization)',
      body: verifyClusterKeyBody,
      response: { 200: clusterKeyVerificationSchema },
    },
  }, async (request) => verifyClusterKey(deps, contextOf(request), request.body));
}
