import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { contextOf } from '../../plugins/context.js';
import { listOf, orgIdParam } from '../../schemas/common.js';
import {
  createResourceBody,
  presentResource,
  resourceParams,
  resourceQuery,
  resourceSchema,
  updateResourceBody,
} from './schemas.js';
import { createResource, deleteResource, getResource, listResources, updateResource } from './service.js';

const tags = ['resources'];

export default async function resourceRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/v1/orgs/:org_id/resources', {
    config: { auth: 'management', idempotent: true },
    schema: { operationId: 'createResource', tags, summary: 'Create a resource in an environment', params: orgIdParam, body: createResourceBody, response: { 201: resourceSchema } },
  }, async (request, reply) => {
    const resource = await createResource(deps, contextOf(request), request.params.org_id, request.body);
    return reply.code(201).send(presentResource(resource));
  });

  r.get('/v1/orgs/:org_id/resources', {
    config: { auth: 'management' },
    schema: { operationId: 'listResources', tags, summary: 'List the resources of an organization', params: orgIdParam, querystring: resourceQuery, response: { 200: listOf(resourceSchema) } },
  }, async (request) => {
    const { page_size, page_token, ...filters } = request.query;
    const page = await listResources(deps, contextOf(request), request.params.org_id, filters, { page_size, page_token });
    return { data: page.data.map(presentResource), next_page_token: page.next_page_token };
  });

  r.get('/v1/orgs/:org_id/resources/:resource_id', {
    config: { auth: 'management' },
    schema: { operationId: 'getResource', tags, summary: 'Get a resource', params: resourceParams, response: { 200: resourceSchema } },
  }, async (request) => presentResource(await getResource(deps, contextOf(request), request.params.org_id, request.params.resource_id)));

  r.patch('/v1/orgs/:org_id/resources/:resource_id', {
    config: { auth: 'management' },
    schema: { operationId: 'updateResource', tags, summary: 'Update the display name, cloud or region of a resource', params: resourceParams, body: updateResourceBody, response: { 200: resourceSchema } },
  }, async (request) => {
    const { org_id, resource_id } = request.params;
    return presentResource(await updateResource(deps, contextOf(request), org_id, resource_id, request.body));
  });

  r.delete('/v1/orgs/:org_id/resources/:resource_id', {
    config: { auth: 'management' },
    schema: { operationId: 'deleteResource', tags, summary: 'Delete a resource, its API keys and the role bindings on it', params: resourceParams, response: { 204: z.null().describe('Deleted') } },
  }, async (request, reply) => {
    await deleteResource(deps, contextOf(request), request.params.org_id, request.params.resource_id);
    return reply.code(204).send(null);
  });
}
