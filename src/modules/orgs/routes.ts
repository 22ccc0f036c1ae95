import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Deps } from '../../deps.js';
import { contextOf } from '../../plugins/context.js';
import { listOf, pageQuery } from '../../schemas/common.js';
import { z } from 'zod';
import {
  createOrgBody,
  deleteOrgQuery,
  orgParams,
  organizationSchema,
  presentOrganization,
  updateOrgBody,
} from './schemas.js';
import { createOrganization, deleteOrganization, getOrganization, listOrganizations, updateOrganization } from './service.js';

const tags = ['organizations'];

export default async function orgRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/v1/orgs', {
    config: { auth: 'root', idempotent: true },
    schema: { operationId: 'createOrganization', tags, summary: 'Create an organization', body: createOrgBody, response: { 201: organizationSchema } },
  }, async (request, reply) => {
    const org = await createOrganization(deps, contextOf(request), request.body);
    return reply.code(201).send(presentOrganization(org));
  });

  r.get('/v1/orgs', {
    config: { auth: 'management' },
    schema: { operationId: 'listOrganizations', tags, summary: 'List organizations (root: all; others: their own)', querystring: pageQuery, response: { 200: listOf(organizationSchema) } },
  }, async (request) => {
    const page = await listOrganizations(deps, contextOf(request), request.query);
    return { data: page.data.map(presentOrganization), next_page_token: page.next_page_token };
  });

  r.get('/v1/orgs/:org_id', {
    config: { auth: 'management' },
    schema: { operationId: 'getOrganization', tags, summary: 'Get an organization', params: orgParams, response: { 200: organizationSchema } },
  }, async (request) => presentOrganization(await getOrganization(deps, contextOf(request), request.params.org_id)));

  r.patch('/v1/orgs/:org_id', {
    config: { auth: 'management' },
    schema: { operationId: 'updateOrganization', tags, summary: 'Update an organization', params: orgParams, body: updateOrgBody, response: { 200: organizationSchema } },
  }, async (request) => presentOrganization(await updateOrganization(deps, contextOf(request), request.params.org_id, request.body)));

  r.delete('/v1/orgs/:org_id', {
    config: { auth: 'root' },
    schema: { operationId: 'deleteOrganization', tags, summary: 'Delete an organization and everything it owns', params: orgParams, querystring: deleteOrgQuery, response: { 204: z.null().describe('Deleted') } },
  }, async (request, reply) => {
    await deleteOrganization(deps, contextOf(request), request.params.org_id, request.query.force === 'true');
    return reply.code(204).send(null);
  });
}
