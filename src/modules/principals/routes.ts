import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { presentPage } from '../../lib/pagination.js';
import { routesOf } from '../../lib/route.js';
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
  const route = routesOf(app, { tags: ['service-accounts'] });

  route({
    method: 'POST',
    url: '/v1/orgs/:org_id/service-accounts',
    operationId: 'createServiceAccount',
    summary: 'Create a service account',
    auth: 'principal.manage',
    idempotent: true,
    params: orgIdParam,
    body: createServiceAccountBody,
    response: { 201: serviceAccountSchema },
    handler: async (request, reply) => {
      const principal = await createServiceAccount(deps, contextOf(request), request.params.org_id, request.body);
      return reply.code(201).send(presentServiceAccount(principal));
    },
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/service-accounts',
    operationId: 'listServiceAccounts',
    summary: 'List the service accounts of an organization',
    auth: 'principal.read',
    params: orgIdParam,
    querystring: pageQuery,
    response: { 200: listOf(serviceAccountSchema) },
    handler: async (request) => presentPage(await listServiceAccounts(deps, contextOf(request), request.params.org_id, request.query), presentServiceAccount),
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/service-accounts/:sa_id',
    operationId: 'getServiceAccount',
    summary: 'Get a service account',
    auth: 'principal.read',
    params: serviceAccountParams,
    response: { 200: serviceAccountSchema },
    handler: async (request) => presentServiceAccount(await getServiceAccount(deps, contextOf(request), request.params.org_id, request.params.sa_id)),
  });

  route({
    method: 'PATCH',
    url: '/v1/orgs/:org_id/service-accounts/:sa_id',
    operationId: 'updateServiceAccount',
    summary: 'Update a service account',
    auth: 'principal.manage',
    params: serviceAccountParams,
    body: updateServiceAccountBody,
    response: { 200: serviceAccountSchema },
    handler: async (request) => {
      const { org_id, sa_id } = request.params;
      return presentServiceAccount(await updateServiceAccount(deps, contextOf(request), org_id, sa_id, request.body));
    },
  });

  route({
    method: 'DELETE',
    url: '/v1/orgs/:org_id/service-accounts/:sa_id',
    operationId: 'deleteServiceAccount',
    summary: 'Delete a service account with its API keys and role bindings',
    auth: 'principal.manage',
    params: serviceAccountParams,
    querystring: deletePrincipalQuery,
    response: deleted,
    handler: async (request, reply) => {
      await deleteServiceAccount(deps, contextOf(request), request.params.org_id, request.params.sa_id, request.query.force === 'true');
      return reply.code(204).send(null);
    },
  });
}

function userRoutes(app: FastifyInstance, deps: Deps) {
  const route = routesOf(app, { tags: ['users'] });

  route({
    method: 'POST',
    url: '/v1/orgs/:org_id/users',
    operationId: 'createUser',
    summary: 'Create a user',
    auth: 'principal.manage',
    idempotent: true,
    params: orgIdParam,
    body: createUserBody,
    response: { 201: userSchema },
    handler: async (request, reply) => {
      const principal = await createUser(deps, contextOf(request), request.params.org_id, request.body);
      return reply.code(201).send(presentUser(principal));
    },
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/users',
    operationId: 'listUsers',
    summary: 'List the users of an organization',
    auth: 'principal.read',
    params: orgIdParam,
    querystring: pageQuery,
    response: { 200: listOf(userSchema) },
    handler: async (request) => presentPage(await listUsers(deps, contextOf(request), request.params.org_id, request.query), presentUser),
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/users/:user_id',
    operationId: 'getUser',
    summary: 'Get a user',
    auth: 'principal.read',
    params: userParams,
    response: { 200: userSchema },
    handler: async (request) => presentUser(await getUser(deps, contextOf(request), request.params.org_id, request.params.user_id)),
  });

  route({
    method: 'PATCH',
    url: '/v1/orgs/:org_id/users/:user_id',
    operationId: 'updateUser',
    summary: 'Update a user',
    auth: 'principal.manage',
    params: userParams,
    body: updateUserBody,
    response: { 200: userSchema },
    handler: async (request) => {
      const { org_id, user_id } = request.params;
      return presentUser(await updateUser(deps, contextOf(request), org_id, user_id, request.body));
    },
  });

  route({
    method: 'DELETE',
    url: '/v1/orgs/:org_id/users/:user_id',
    operationId: 'deleteUser',
    summary: 'Delete a user with its API keys and role bindings',
    auth: 'principal.manage',
    params: userParams,
    querystring: deletePrincipalQuery,
    response: deleted,
    handler: async (request, reply) => {
      await deleteUser(deps, contextOf(request), request.params.org_id, request.params.user_id, request.query.force === 'true');
      return reply.code(204).send(null);
    },
  });
}

export default async function principalRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  serviceAccountRoutes(app, deps);
  userRoutes(app, deps);
}
