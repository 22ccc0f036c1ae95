import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { presentPage } from '../../lib/pagination.js';
import { routesOf } from '../../lib/route.js';
import { contextOf } from '../../plugins/context.js';
import { listOf, orgIdParam, pageQuery } from '../../schemas/common.js';
import { createEnvironmentBody, environmentParams, environmentSchema, presentEnvironment, updateEnvironmentBody } from './schemas.js';
import { createEnvironment, deleteEnvironment, getEnvironment, listEnvironments, updateEnvironment } from './service.js';

export default async function environmentRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const route = routesOf(app, { tags: ['environments'] });

  route({
    method: 'POST',
    url: '/v1/orgs/:org_id/environments',
    operationId: 'createEnvironment',
    summary: 'Create an environment',
    auth: 'environment.manage',
    idempotent: true,
    params: orgIdParam,
    body: createEnvironmentBody,
    response: { 201: environmentSchema },
    handler: async (request, reply) => {
      const environment = await createEnvironment(deps, contextOf(request), request.params.org_id, request.body);
      return reply.code(201).send(presentEnvironment(environment));
    },
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/environments',
    operationId: 'listEnvironments',
    summary: 'List the environments of an organization',
    auth: 'environment.read',
    params: orgIdParam,
    querystring: pageQuery,
    response: { 200: listOf(environmentSchema) },
    handler: async (request) => presentPage(await listEnvironments(deps, contextOf(request), request.params.org_id, request.query), presentEnvironment),
  });

  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/environments/:env_id',
    operationId: 'getEnvironment',
    summary: 'Get an environment',
    auth: 'environment.read',
    params: environmentParams,
    response: { 200: environmentSchema },
    handler: async (request) => presentEnvironment(await getEnvironment(deps, contextOf(request), request.params.org_id, request.params.env_id)),
  });

  route({
    method: 'PATCH',
    url: '/v1/orgs/:org_id/environments/:env_id',
    operationId: 'updateEnvironment',
    summary: 'Rename an environment',
    auth: 'environment.manage',
    params: environmentParams,
    body: updateEnvironmentBody,
    response: { 200: environmentSchema },
    handler: async (request) => {
      const { org_id, env_id } = request.params;
      return presentEnvironment(await updateEnvironment(deps, contextOf(request), org_id, env_id, request.body));
    },
  });

  route({
    method: 'DELETE',
    url: '/v1/orgs/:org_id/environments/:env_id',
    operationId: 'deleteEnvironment',
    summary: 'Delete an empty environment and the role bindings on it',
    auth: 'environment.manage',
    params: environmentParams,
    response: { 204: z.null().describe('Deleted') },
    handler: async (request, reply) => {
      await deleteEnvironment(deps, contextOf(request), request.params.org_id, request.params.env_id);
      return reply.code(204).send(null);
    },
  });
}
