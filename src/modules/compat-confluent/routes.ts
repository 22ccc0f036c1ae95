import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { type DomainError, PROBLEMS } from '../../errors.js';
import { routesOf } from '../../lib/route.js';
import { contextOf } from '../../plugins/context.js';
import { type ErrorShape, handleErrors, noRouteDetail } from '../../plugins/errors.js';
import { standardErrors } from '../../schemas/common.js';
import {
  confluentApiKeyListSchema,
  confluentApiKeySchema,
  confluentServiceAccountListSchema,
  confluentServiceAccountSchema,
  createConfluentApiKeyBody,
  createConfluentServiceAccountBody,
  createdConfluentApiKeySchema,
  deleteConfluentServiceAccountQuery,
  type Failure,
  failureSchema,
  keyIdParams,
  listConfluentApiKeysQuery,
  listConfluentServiceAccountsQuery,
  listMetadata,
  presentConfluentApiKey,
  presentConfluentServiceAccount,
  presentCreatedConfluentApiKey,
  serviceAccountIdParams,
  updateConfluentApiKeyBody,
  updateConfluentServiceAccountBody,
} from './schemas.js';
import {
  createConfluentApiKey,
  createConfluentServiceAccount,
  deleteConfluentApiKey,
  deleteConfluentServiceAccount,
  getConfluentApiKey,
  getConfluentServiceAccount,
  listConfluentApiKeys,
  listConfluentServiceAccounts,
  updateConfluentApiKey,
  updateConfluentServiceAccount,
} from './service.js';

// /iam/v2 acts in the caller's organization, which the root token lacks (403): only principals' credentials.
const security: Array<Record<string, string[]>> = [{ cloudApiKey: [] }, { accessToken: [] }];
// Every error status the shared problem responses cover, answered in Confluent's shape instead.
const errors = Object.fromEntries(Object.keys(standardErrors).map((status) => [status, failureSchema])) as Record<
  keyof typeof standardErrors,
  typeof failureSchema
>;

/** One Confluent error per invalid field (naming it in `source`), else one for the whole problem. */
function failureOf(error: DomainError, requestId: string, fieldsInQuery: boolean): Failure {
  const { status, title } = PROBLEMS[error.code];
  const base = { id: requestId, status: String(status), code: error.code, title };
  const fields = error.options.errors ?? [];
  if (fields.length === 0) return { errors: [{ ...base, detail: error.detail }] };
  return {
    errors: fields.map((field) => ({
      ...base,
      detail: fields.length === 1 ? error.detail : `${field.path} ${field.message}`,
      source: fieldsInQuery ? { parameter: field.path } : { pointer: `/${field.path.split('.').join('/')}` },
    })),
  };
}

/** Confluent's error shape; field errors name a query parameter or a body pointer, as the request had them. */
const confluentFailure: ErrorShape = (reply, request, error, thrown) => {
  const context = (thrown as { validationContext?: string } | undefined)?.validationContext;
  const fieldsInQuery = context ? context !== 'body' : request.method === 'GET' || request.method === 'DELETE';
  return reply.type('application/json').send(failureOf(error, request.id, fieldsInQuery));
};

async function confluentRoutes(scope: FastifyInstance, deps: Deps) {
  // Also reached by the auth hook's 401/403/429, which Fastify hands to the route's own error handler.
  handleErrors(scope, deps.tarpit, confluentFailure, noRouteDetail);

  const route = routesOf(scope, { tags: ['confluent-iam-v2'], security, errors });

  route({
    method: 'POST',
    url: '/api-keys',
    operationId: 'confluentCreateApiKey',
    summary: 'Create an API key (Confluent IAM v2); the secret is in this response only',
    auth: 'api_key.manage_scoped',
    idempotent: true,
    body: createConfluentApiKeyBody,
    response: { 202: createdConfluentApiKeySchema },
    handler: async (request, reply) => {
      const { key, secret } = await createConfluentApiKey(deps, contextOf(request), request.body);
      return reply.code(202).header('location', `/iam/v2/api-keys/${key.id}`).send(presentCreatedConfluentApiKey(key, secret));
    },
  });

  route({
    method: 'GET',
    url: '/api-keys',
    operationId: 'confluentListApiKeys',
    summary: 'List API keys (Confluent IAM v2), filtered by spec.owner and spec.resource',
    auth: 'api_key.manage_scoped',
    querystring: listConfluentApiKeysQuery,
    response: { 200: confluentApiKeyListSchema },
    handler: async (request) => {
      const { page_size, page_token, ...filters } = request.query;
      const page = await listConfluentApiKeys(deps, contextOf(request), filters, { page_size, page_token });
      const query = { 'spec.owner': filters['spec.owner'], 'spec.resource': filters['spec.resource'], page_size };
      return {
        api_version: 'iam/v2',
        kind: 'ApiKeyList',
        metadata: listMetadata('/iam/v2/api-keys', query, page.next_page_token),
        data: page.data.map(presentConfluentApiKey),
      } as const;
    },
  });

  route({
    method: 'GET',
    url: '/api-keys/:id',
    operationId: 'confluentGetApiKey',
    summary: 'Get an API key (Confluent IAM v2), never its secret',
    auth: 'api_key.manage_scoped',
    params: keyIdParams,
    response: { 200: confluentApiKeySchema },
    handler: async (request) => presentConfluentApiKey(await getConfluentApiKey(deps, contextOf(request), request.params.id)),
  });

  route({
    method: 'PATCH',
    url: '/api-keys/:id',
    operationId: 'confluentUpdateApiKey',
    summary: 'Change spec.display_name or spec.description of an API key (Confluent IAM v2)',
    auth: 'api_key.manage_scoped',
    params: keyIdParams,
    body: updateConfluentApiKeyBody,
    response: { 200: confluentApiKeySchema },
    handler: async (request) => presentConfluentApiKey(await updateConfluentApiKey(deps, contextOf(request), request.params.id, request.body.spec)),
  });

  route({
    method: 'DELETE',
    url: '/api-keys/:id',
    operationId: 'confluentDeleteApiKey',
    summary: 'Delete (revoke) an API key (Confluent IAM v2)',
    auth: 'api_key.manage_scoped',
    params: keyIdParams,
    response: { 204: z.null().describe('Deleted') },
    handler: async (request, reply) => {
      await deleteConfluentApiKey(deps, contextOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  });

  route({
    method: 'POST',
    url: '/service-accounts',
    operationId: 'confluentCreateServiceAccount',
    summary: 'Create a service account (Confluent IAM v2)',
    auth: 'principal.manage',
    idempotent: true,
    body: createConfluentServiceAccountBody,
    response: { 201: confluentServiceAccountSchema },
    handler: async (request, reply) => {
      const { api_version: _apiVersion, kind: _kind, ...input } = request.body;
      const principal = await createConfluentServiceAccount(deps, contextOf(request), input);
      return reply.code(201).header('location', `/iam/v2/service-accounts/${principal.id}`).send(presentConfluentServiceAccount(principal));
    },
  });

  route({
    method: 'GET',
    url: '/service-accounts',
    operationId: 'confluentListServiceAccounts',
    summary: 'List service accounts (Confluent IAM v2)',
    auth: 'principal.read',
    querystring: listConfluentServiceAccountsQuery,
    response: { 200: confluentServiceAccountListSchema },
    handler: async (request) => {
      const { page_size, page_token, display_name } = request.query;
      const page = await listConfluentServiceAccounts(deps, contextOf(request), { display_name }, { page_size, page_token });
      const metadata = listMetadata('/iam/v2/service-accounts', { page_size, display_name }, page.next_page_token);
      return { api_version: 'iam/v2', kind: 'ServiceAccountList', metadata, data: page.data.map(presentConfluentServiceAccount) } as const;
    },
  });

  route({
    method: 'GET',
    url: '/service-accounts/:id',
    operationId: 'confluentGetServiceAccount',
    summary: 'Get a service account (Confluent IAM v2)',
    auth: 'principal.read',
    params: serviceAccountIdParams,
    response: { 200: confluentServiceAccountSchema },
    handler: async (request) => presentConfluentServiceAccount(await getConfluentServiceAccount(deps, contextOf(request), request.params.id)),
  });

  route({
    method: 'PATCH',
    url: '/service-accounts/:id',
    operationId: 'confluentUpdateServiceAccount',
    summary: 'Change the display_name or description of a service account (Confluent IAM v2)',
    auth: 'principal.manage',
    params: serviceAccountIdParams,
    body: updateConfluentServiceAccountBody,
    response: { 200: confluentServiceAccountSchema },
    handler: async (request) => {
      const { api_version: _apiVersion, kind: _kind, ...input } = request.body;
      return presentConfluentServiceAccount(await updateConfluentServiceAccount(deps, contextOf(request), request.params.id, input));
    },
  });

  route({
    method: 'DELETE',
    url: '/service-accounts/:id',
    operationId: 'confluentDeleteServiceAccount',
    summary: 'Delete a service account and its API keys (Confluent IAM v2); 409 if its keys were used recently',
    auth: 'principal.manage',
    params: serviceAccountIdParams,
    querystring: deleteConfluentServiceAccountQuery,
    response: { 204: z.null().describe('Deleted') },
    handler: async (request, reply) => {
      await deleteConfluentServiceAccount(deps, contextOf(request), request.params.id, request.query.force === 'true');
      return reply.code(204).send(null);
    },
  });
}

/**
 * Confluent Cloud's IAM v2 API, for the confluent CLI, Terraform provider and SDKs. Its own
 * encapsulated scope under /iam/v2, so that its errors (the auth hook's included) and unknown
 * /iam/v2 paths are answered in Confluent's shape while the rest of the service keeps problem+json.
 */
export default async function confluentCompatRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  await app.register((scope) => confluentRoutes(scope, deps), { prefix: '/iam/v2' });
}
