import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { presentPage } from '../../lib/pagination.js';
import { routesOf } from '../../lib/route.js';
import { contextOf } from '../../plugins/context.js';
import { listOf, orgIdParam } from '../../schemas/common.js';
import { createResourceBody, presentResource, resourceParams, resourceQuery, resourceSchema, updateResourceBody } from './schemas.js';
import { createResource, deleteResource, getResource, listResources, updateResource } from './service.js';

export default async function resourceRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const route = routesOf(app, { tags: ['resources'] });

  route({
    method: 'POST',
    url: '/v1/orgs/:org_id/resources',
    operationId: 'createResource',
    summary: 'Create a resource in an environment',
    auth: 'resource.manage',
    idempotent: true,
    params: orgIdParam,
    body: createResourceBody,
    response: { 201: resourceSchema },
    handler: async (request, reply) => {
      const resource = await createResource(deps, contextOf(request), request.params.org_id, request.body);
      return reply.code(201).send(presentResource(resource));
    },
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/resources',
    operationId: 'listResources',
    summary: 'List the resources of an organization',
    auth: 'resource.read',
    params: orgIdParam,
    querystring: resourceQuery,
    response: { 200: listOf(resourceSchema) },
    handler: async (request) => {
      const { page_size, page_token, ...filters } = request.query;
      const page = await listResources(deps, contextOf(request), request.params.org_id, filters, { page_size, page_token });
      return presentPage(page, presentResource);
    },
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/resources/:resource_id',
    operationId: 'getResource',
    summary: 'Get a resource',
    auth: 'resource.read',
    params: resourceParams,
    response: { 200: resourceSchema },
    handler: async (request) => presentResource(await getResource(deps, contextOf(request), request.params.org_id, request.params.resource_id)),
  });

  route({
    method: 'PATCH',
    url: '/v1/orgs/:org_id/resources/:resource_id',
    operationId: 'updateResource',
    summary: 'Update the display name, cloud or region of a resource',
    auth: 'resource.manage',
    params: resourceParams,
    body: updateResourceBody,
    response: { 200: resourceSchema },
    handler: async (request) => {
      const { org_id, resource_id } = request.params;
      return presentResource(await updateResource(deps, contextOf(request), org_id, resource_id, request.body));
    },
  });

  route({
    method: 'DELETE',
    url: '/v1/orgs/:org_id/resources/:resource_id',
    operationId: 'deleteResource',
    summary: 'Delete a resource, its API keys and the role bindings on it',
    auth: 'resource.manage',
    params: resourceParams,
    response: { 204: z.null().describe('Deleted') },
    handler: async (request, reply) => {
      await deleteResource(deps, contextOf(request), request.params.org_id, request.params.resource_id);
      return reply.code(204).send(null);
    },
  });
}
