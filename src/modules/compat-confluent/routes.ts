import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { type DomainError, PROBLEMS } from '../../errors.js';
import { contextOf } from '../../plugins/context.js';
import { type ErrorShape, handleErrors, noRouteDetail } from '../../plugins/errors.js';
import { standardErrors } from '../../schemas/common.js';
import {
  apiKeyListSchema,
  apiKeySchema,
  createApiKeyBody,
  createdApiKeySchema,
  createServiceAccountBody,
  deleteServiceAccountQuery,
  type Failure,
  failureSchema,
  keyIdParams,
  listApiKeysQuery,
  listMetadata,
  listServiceAccountsQuery,
  presentApiKey,
  presentCreatedApiKey,
  presentServiceAccount,
  serviceAccountIdParams,
  serviceAccountListSchema,
  serviceAccountSchema,
  updateApiKeyBody,
  updateServiceAccountBody,
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

const tags = ['confluent-iam-v2'];
// /iam/v2 acts in the caller's organization, which the root token lacks (403): only principals' credentials.
const security: Array<Record<string, string[]>> = [{ cloudApiKey: [] }, { accessToken: [] }];
// Every error status the shared problem responses cover, answered in Confluent's shape instead.
const errors = Object.fromEntries(Object.keys(standardErrors).map((status) => [status, failureSchema])) as Record<keyof typeof standardErrors, typeof failureSchema>;

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

  const r = scope.withTypeProvider<ZodTypeProvider>();

  r.post('/api-keys', {
    config: { auth: 'management', idempotent: true },
    schema: {
      operationId: 'confluentCreateApiKey',
      tags,
      security,
      summary: 'Create an API key (Confluent IAM v2); the secret is in this response only',
      body: createApiKeyBody,
      response: { ...errors, 202: createdApiKeySchema },
    },
  }, async (request, reply) => {
    const { key, secret } = await createConfluentApiKey(deps, contextOf(request), request.body);
    return reply.code(202).header('location', `/iam/v2/api-keys/${key.id}`).send(presentCreatedApiKey(key, secret));
  });

  r.get('/api-keys', {
    config: { auth: 'management' },
    schema: {
      operationId: 'confluentListApiKeys',
      tags,
      security,
      summary: 'List API keys (Confluent IAM v2), filtered by spec.owner and spec.resource',
      querystring: listApiKeysQuery,
      response: { ...errors, 200: apiKeyListSchema },
    },
  }, async (request) => {
    const { page_size, page_token, ...filters } = request.query;
    const page = await listConfluentApiKeys(deps, contextOf(request), filters, { page_size, page_token });
    const query = { 'spec.owner': filters['spec.owner'], 'spec.resource': filters['spec.resource'], page_size };
    return { api_version: 'iam/v2', kind: 'ApiKeyList', metadata: listMetadata('/iam/v2/api-keys', query, page.next_page_token), data: page.data.map(presentApiKey) } as const;
  });

  r.get('/api-keys/:id', {
    config: { auth: 'management' },
    schema: { operationId: 'confluentGetApiKey', tags, security, summary: 'Get an API key (Confluent IAM v2), never its secret', params: keyIdParams, response: { ...errors, 200: apiKeySchema } },
  }, async (request) => presentApiKey(await getConfluentApiKey(deps, contextOf(request), request.params.id)));

  r.patch('/api-keys/:id', {
    config: { auth: 'management' },
    schema: {
      operationId: 'confluentUpdateApiKey',
      tags,
      security,
      summary: 'Change spec.display_name or spec.description of an API key (Confluent IAM v2)',
      params: keyIdParams,
      body: updateApiKeyBody,
      response: { ...errors, 200: apiKeySchema },
    },
  }, async (request) => presentApiKey(await updateConfluentApiKey(deps, contextOf(request), request.params.id, request.body.spec)));

  r.delete('/api-keys/:id', {
    config: { auth: 'management' },
    schema: { operationId: 'confluentDeleteApiKey', tags, security, summary: 'Delete (revoke) an API key (Confluent IAM v2)', params: keyIdParams, response: { ...errors, 204: z.null().describe('Deleted') } },
  }, async (request, reply) => {
    await deleteConfluentApiKey(deps, contextOf(request), request.params.id);
    return reply.code(204).send(null);
  });

  r.post('/service-accounts', {
    config: { auth: 'management', idempotent: true },
    schema: {
      operationId: 'confluentCreateServiceAccount',
      tags,
      security,
      summary: 'Create a service account (Confluent IAM v2)',
      body: createServiceAccountBody,
      response: { ...errors, 201: serviceAccountSchema },
    },
  }, async (request, reply) => {
    const { api_version: _apiVersion, kind: _kind, ...input } = request.body;
    const principal = await createConfluentServiceAccount(deps, contextOf(request), input);
    return reply.code(201).header('location', `/iam/v2/service-accounts/${principal.id}`).send(presentServiceAccount(principal));
  });

  r.get('/service-accounts', {
    config: { auth: 'management' },
    schema: {
      operationId: 'confluentListServiceAccounts',
      tags,
      security,
      summary: 'List service accounts (Confluent IAM v2)',
      querystring: listServiceAccountsQuery,
      response: { ...errors, 200: serviceAccountListSchema },
    },
  }, async (request) => {
    const { page_size, page_token, display_name } = request.query;
    const page = await listConfluentServiceAccounts(deps, contextOf(request), { display_name }, { page_size, page_token });
    const metadata = listMetadata('/iam/v2/service-accounts', { page_size, display_name }, page.next_page_token);
    return { api_version: 'iam/v2', kind: 'ServiceAccountList', metadata, data: page.data.map(presentServiceAccount) } as const;
  });

  r.get('/service-accounts/:id', {
    config: { auth: 'management' },
    schema: { operationId: 'confluentGetServiceAccount', tags, security, summary: 'Get a service account (Confluent IAM v2)', params: serviceAccountIdParams, response: { ...errors, 200: serviceAccountSchema } },
  }, async (request) => presentServiceAccount(await getConfluentServiceAccount(deps, contextOf(request), request.params.id)));

  r.patch('/service-accounts/:id', {
    config: { auth: 'management' },
    schema: {
      operationId: 'confluentUpdateServiceAccount',
      tags,
      security,
      summary: 'Change the display_name or description of a service account (Confluent IAM v2)',
      params: serviceAccountIdParams,
      body: updateServiceAccountBody,
      response: { ...errors, 200: serviceAccountSchema },
    },
  }, async (request) => {
    const { api_version: _apiVersion, kind: _kind, ...input } = request.body;
    return presentServiceAccount(await updateConfluentServiceAccount(deps, contextOf(request), request.params.id, input));
  });

  r.delete('/service-accounts/:id', {
    config: { auth: 'management' },
    schema: {
      operationId: 'confluentDeleteServiceAccount',
      tags,
      security,
      summary: 'Delete a service account and its API keys (Confluent IAM v2); 409 if its keys were used recently',
      params: serviceAccountIdParams,
      querystring: deleteServiceAccountQuery,
      response: { ...errors, 204: z.null().describe('Deleted') },
    },
  }, async (request, reply) => {
    await deleteConfluentServiceAccount(deps, contextOf(request), request.params.id, request.query.force === 'true');
    return reply.code(204).send(null);
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
