import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { presentPage } from '../../lib/pagination.js';
import { routesOf } from '../../lib/route.js';
import { contextOf } from '../../plugins/context.js';
import { listOf, orgIdParam } from '../../schemas/common.js';
import { createRoleBindingBody, presentRoleBinding, roleBindingParams, roleBindingQuery, roleBindingSchema } from './schemas.js';
import { createRoleBinding, deleteRoleBinding, getRoleBinding, listRoleBindings } from './service.js';

export default async function roleBindingRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const route = routesOf(app, { tags: ['role-bindings'] });

  route({
    method: 'POST',
    url: '/v1/orgs/:org_id/role-bindings',
    operationId: 'createRoleBinding',
    summary: 'Give a principal a role on the organization, an environment or a resource',
    auth: 'role_binding.manage',
    idempotent: true,
    params: orgIdParam,
    body: createRoleBindingBody,
    response: { 201: roleBindingSchema },
    handler: async (request, reply) => {
      const binding = await createRoleBinding(deps, contextOf(request), request.params.org_id, request.body);
      return reply.code(201).send(presentRoleBinding(binding));
    },
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/role-bindings',
    operationId: 'listRoleBindings',
    summary: 'List the role bindings of an organization',
    auth: 'role_binding.read',
    params: orgIdParam,
    querystring: roleBindingQuery,
    response: { 200: listOf(roleBindingSchema) },
    handler: async (request) => {
      const { page_size, page_token, ...filters } = request.query;
      const page = await listRoleBindings(deps, contextOf(request), request.params.org_id, filters, { page_size, page_token });
      return presentPage(page, presentRoleBinding);
    },
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/role-bindings/:rb_id',
    operationId: 'getRoleBinding',
    summary: 'Get a role binding',
    auth: 'role_binding.read',
    params: roleBindingParams,
    response: { 200: roleBindingSchema },
    handler: async (request) => presentRoleBinding(await getRoleBinding(deps, contextOf(request), request.params.org_id, request.params.rb_id)),
  });

  route({
    method: 'DELETE',
    url: '/v1/orgs/:org_id/role-bindings/:rb_id',
    operationId: 'deleteRoleBinding',
    summary: 'Delete a role binding',
    auth: 'role_binding.manage',
    params: roleBindingParams,
    response: { 204: z.null().describe('Deleted') },
    handler: async (request, reply) => {
      await deleteRoleBinding(deps, contextOf(request), request.params.org_id, request.params.rb_id);
      return reply.code(204).send(null);
    },
  });
}
