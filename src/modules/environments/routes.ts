import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { contextOf } from '../../plugins/context.js';
import { listOf, orgIdParam, pageQuery } from '../../schemas/common.js';
import {
  createEnvironmentBody,
  environmentParams,
  environmentSchema,
  presentEnvironment,
  updateEnvironmentBody,
} from './schemas.js';
import { createEnvironment, deleteEnvironment, getEnvironment, listEnvironments, updateEnvironment } from './service.js';

const tags = ['environments'];

export default async function environmentRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/v1/orgs/:org_id/environments', {
    config: { auth: 'management', idempotent: true },
    schema: { operationId: 'createEnvironment', tags, summary: 'Create an environment', params: orgIdParam, body: createEnvironmentBody, response: { 201: environmentSchema } },
  }, async (request, reply) => {
    const environment = await createEnvironment(deps, contextOf(request), request.params.org_id, request.body);
    return reply.code(201).send(presentEnvironment(environment));
  });

  r.get('/v1/orgs/:org_id/environments', {
    config: { auth: 'management' },
    schema: { operationId: 'listEnvironments', tags, summary: 'List the environments of an organization', params: orgIdParam, querystring: pageQuery, response: { 200: listOf(environmentSchema) } },
  }, async (request) => {
    const page = await listEnvironments(deps, contextOf(request), request.params.org_id, request.query);
    return { data: page.data.map(presentEnvironment), next_page_token: page.next_page_token };
  });

  r.get('/v1/orgs/:org_id/environments/:env_id', {
    config: { auth: 'management' },
    schema: { operationId: 'getEnvironment', tags, summary: 'Get an environment', params: environmentParams, response: { 200: environmentSchema } },
  }, async (request) => presentEnvironment(await getEnvironment(deps, contextOf(request), request.params.org_id, request.params.env_id)));

  r.patch('/v1/orgs/:org_id/environments/:env_id', {
    config: { auth: 'management' },
    schema: { operationId: 'updateEnvironment', tags, summary: 'Rename an environment', params: environmentParams, body: updateEnvironmentBody, response: { 200: environmentSchema } },
  }, async (request) => {
    const { org_id, env_id } = request.params;
    return presentEnvironment(await updateEnvironment(deps, contextOf(request), org_id, env_id, request.body));
  });

  r.delete('/v1/orgs/:org_id/environments/:env_id', {
    config: { auth: 'management' },
    schema: { operationId: 'deleteEnvironment', tags, summary: 'Delete an empty environment and the role bindings on it', params: environmentParams, response: { 204: z.null().describe('Deleted') } },
  }, async (request, reply) => {
    await deleteEnvironment(deps, contextOf(request), request.params.org_id, request.params.env_id);
    return reply.code(204).send(null);
  });
}
