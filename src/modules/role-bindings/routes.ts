import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { contextOf } from '../../plugins/context.js';
import { listOf, orgIdParam } from '../../schemas/common.js';
import { createRoleBindingBody, presentRoleBinding, roleBindingParams, roleBindingQuery, roleBindingSchema } from './schemas.js';
import { createRoleBinding, deleteRoleBinding, getRoleBinding, listRoleBindings } from './service.js';

const tags = ['role-bindings'];

export default async function roleBindingRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/v1/orgs/:org_id/role-bindings', {
    config: { auth: 'management', idempotent: true },
    schema: { operationId: 'createRoleBinding', tags, summary: 'Give a principal a role on the organization, an environment or a resource', params: orgIdParam, body: createRoleBindingBody, response: { 201: roleBindingSchema } },
  }, async (request, reply) => {
    const binding = await createRoleBinding(deps, contextOf(request), request.params.org_id, request.body);
    return reply.code(201).send(presentRoleBinding(binding));
  });

  r.get('/v1/orgs/:org_id/role-bindings', {
    config: { auth: 'management' },
    schema: { operationId: 'listRoleBindings', tags, summary: 'List the role bindings of an organization', params: orgIdParam, querystring: roleBindingQuery, response: { 200: listOf(roleBindingSchema) } },
  }, async (request) => {
    const { page_size, page_token, ...filters } = request.query;
    const page = await listRoleBindings(deps, contextOf(request), request.params.org_id, filters, { page_size, page_token });
    return { data: page.data.map(presentRoleBinding), next_page_token: page.next_page_token };
  });

  r.get('/v1/orgs/:org_id/role-bindings/:rb_id', {
    config: { auth: 'management' },
    schema: { operationId: 'getRoleBinding', tags, summary: 'Get a role binding', params: roleBindingParams, response: { 200: roleBindingSchema } },
  }, async (request) => presentRoleBinding(await getRoleBinding(deps, contextOf(request), request.params.org_id, request.params.rb_id)));

  r.delete('/v1/orgs/:org_id/role-bindings/:rb_id', {
    config: { auth: 'management' },
    schema: { operationId: 'deleteRoleBinding', tags, summary: 'Delete a role binding', params: roleBindingParams, response: { 204: z.null().describe('Deleted') } },
  }, async (request, reply) => {
    await deleteRoleBinding(deps, contextOf(request), request.params.org_id, request.params.rb_id);
    return reply.code(204).send(null);
  });
}
