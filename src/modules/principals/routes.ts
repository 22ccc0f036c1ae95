import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { contextOf } from '../../plugins/context.js';
import { listOf, orgIdParam, pageQuery } from '../../schemas/common.js';
import {
  createServiceAccountBody,
  createUserBody,
  deletePrincipalQuery,
  presentServiceAccount,
  presentUser,
  serviceAccountParams,
  serviceAccountSchema,
  updateServiceAccountBody,
  updateUserBody,
  userParams,
  userSchema,
} from './schemas.js';
import {
  createServiceAccount,
  createUser,
  deleteServiceAccount,
  deleteUser,
  getServiceAccount,
  getUser,
  listServiceAccounts,
  listUsers,
  updateServiceAccount,
  updateUser,
} from './service.js';

const deleted = { 204: z.null().describe('Deleted') };

function serviceAccountRoutes(app: FastifyInstance, deps: Deps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['service-accounts'];

  r.post('/v1/orgs/:org_id/service-accounts', {
    config: { auth: 'management', idempotent: true },
    schema: { operationId: 'createServiceAccount', tags, summary: 'Create a service account', params: orgIdParam, body: createServiceAccountBody, response: { 201: serviceAccountSchema } },
  }, async (request, reply) => {
    const principal = await createServiceAccount(deps, contextOf(request), request.params.org_id, request.body);
    return reply.code(201).send(presentServiceAccount(principal));
  });

  r.get('/v1/orgs/:org_id/service-accounts', {
    config: { auth: 'management' },
    schema: { operationId: 'listServiceAccounts', tags, summary: 'List the service accounts of an organization', params: orgIdParam, querystring: pageQuery, response: { 200: listOf(serviceAccountSchema) } },
  }, async (request) => {
    const page = await listServiceAccounts(deps, contextOf(request), request.params.org_id, request.query);
    return { data: page.data.map(presentServiceAccount), next_page_token: page.next_page_token };
  });

  r.get('/v1/orgs/:org_id/service-accounts/:sa_id', {
    config: { auth: 'management' },
    schema: { operationId: 'getServiceAccount', tags, summary: 'Get a service account', params: serviceAccountParams, response: { 200: serviceAccountSchema } },
  }, async (request) => presentServiceAccount(await getServiceAccount(deps, contextOf(request), request.params.org_id, request.params.sa_id)));

  r.patch('/v1/orgs/:org_id/service-accounts/:sa_id', {
    config: { auth: 'management' },
    schema: { operationId: 'updateServiceAccount', tags, summary: 'Update a service account', params: serviceAccountParams, body: updateServiceAccountBody, response: { 200: serviceAccountSchema } },
  }, async (request) => {
    const { org_id, sa_id } = request.params;
    return presentServiceAccount(await updateServiceAccount(deps, contextOf(request), org_id, sa_id, request.body));
  });

  r.delete('/v1/orgs/:org_id/service-accounts/:sa_id', {
    config: { auth: 'management' },
    schema: { operationId: 'deleteServiceAccount', tags, summary: 'Delete a service account with its API keys and role bindings', params: serviceAccountParams, querystring: deletePrincipalQuery, response: deleted },
  }, async (request, reply) => {
    await deleteServiceAccount(deps, contextOf(request), request.params.org_id, request.params.sa_id, request.query.force === 'true');
    return reply.code(204).send(null);
  });
}

function userRoutes(app: FastifyInstance, deps: Deps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['users'];

  r.post('/v1/orgs/:org_id/users', {
    config: { auth: 'management', idempotent: true },
    schema: { operationId: 'createUser', tags, summary: 'Create a user', params: orgIdParam, body: createUserBody, response: { 201: userSchema } },
  }, async (request, reply) => {
    const principal = await createUser(deps, contextOf(request), request.params.org_id, request.body);
    return reply.code(201).send(presentUser(principal));
  });

  r.get('/v1/orgs/:org_id/users', {
    config: { auth: 'management' },
    schema: { operationId: 'listUsers', tags, summary: 'List the users of an organization', params: orgIdParam, querystring: pageQuery, response: { 200: listOf(userSchema) } },
  }, async (request) => {
    const page = await listUsers(deps, contextOf(request), request.params.org_id, request.query);
    return { data: page.data.map(presentUser), next_page_token: page.next_page_token };
  });

  r.get('/v1/orgs/:org_id/users/:user_id', {
    config: { auth: 'management' },
    schema: { operationId: 'getUser', tags, summary: 'Get a user', params: userParams, response: { 200: userSchema } },
  }, async (request) => presentUser(await getUser(deps, contextOf(request), request.params.org_id, request.params.user_id)));

  r.patch('/v1/orgs/:org_id/users/:user_id', {
    config: { auth: 'management' },
    schema: { operationId: 'updateUser', tags, summary: 'Update a user', params: userParams, body: updateUserBody, response: { 200: userSchema } },
  }, async (request) => {
    const { org_id, user_id } = request.params;
    return presentUser(await updateUser(deps, contextOf(request), org_id, user_id, request.body));
  });

  r.delete('/v1/orgs/:org_id/users/:user_id', {
    config: { auth: 'management' },
    schema: { operationId: 'deleteUser', tags, summary: 'Delete a user with its API keys and role bindings', params: userParams, querystring: deletePrincipalQuery, response: deleted },
  }, async (request, reply) => {
    await deleteUser(deps, contextOf(request), request.params.org_id, request.params.user_id, request.query.force === 'true');
    return reply.code(204).send(null);
  });
}

export default async function principalRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  serviceAccountRoutes(app, deps);
  userRoutes(app, deps);
}
