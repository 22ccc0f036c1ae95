import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { presentPage } from '../../lib/pagination.js';
import { routesOf } from '../../lib/route.js';
import { contextOf } from '../../plugins/context.js';
import { listOf, pageQuery } from '../../schemas/common.js';
import { createOrgBody, deleteOrgQuery, organizationSchema, orgParams, presentOrganization, updateOrgBody } from './schemas.js';
import { createOrganization, deleteOrganization, getOrganization, listOrganizations, updateOrganization } from './service.js';

export default async function orgRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const route = routesOf(app, { tags: ['organizations'] });

  route({
    method: 'POST',
    url: '/v1/orgs',
    operationId: 'createOrganization',
    summary: 'Create an organization',
    auth: 'root',
    idempotent: true,
    body: createOrgBody,
    response: { 201: organizationSchema },
    handler: async (request, reply) => {
      const org = await createOrganization(deps, contextOf(request), request.body);
      return reply.code(201).send(presentOrganization(org));
    },
  });

  route({
    method: 'GET',
    url: '/v1/orgs',
    operationId: 'listOrganizations',
    summary: 'List organizations (root: all; others: their own)',
    auth: 'org.read',
    querystring: pageQuery,
    response: { 200: listOf(organizationSchema) },
    handler: async (request) => presentPage(await listOrganizations(deps, contextOf(request), request.query), presentOrganization),
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id',
    operationId: 'getOrganization',
    summary: 'Get an organization',
    auth: 'org.read',
    params: orgParams,
    response: { 200: organizationSchema },
    handler: async (request) => presentOrganization(await getOrganization(deps, contextOf(request), request.params.org_id)),
  });

  route({
    method: 'PATCH',
    url: '/v1/orgs/:org_id',
    operationId: 'updateOrganization',
    summary: 'Update an organization',
    auth: 'org.update',
    params: orgParams,
    body: updateOrgBody,
    response: { 200: organizationSchema },
    handler: async (request) => presentOrganization(await updateOrganization(deps, contextOf(request), request.params.org_id, request.body)),
  });

  route({
    method: 'DELETE',
    url: '/v1/orgs/:org_id',
    operationId: 'deleteOrganization',
    summary: 'Delete an organization and everything it owns',
    auth: 'root',
    params: orgParams,
    querystring: deleteOrgQuery,
    response: { 204: z.null().describe('Deleted') },
    handler: async (request, reply) => {
      await deleteOrganization(deps, contextOf(request), request.params.org_id, request.query.force === 'true');
      return reply.code(204).send(null);
    },
  });
}
