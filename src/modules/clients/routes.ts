import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { presentPage } from '../../lib/pagination.js';
import { routesOf } from '../../lib/route.js';
import { contextOf } from '../../plugins/context.js';
import { listOf } from '../../schemas/common.js';
import { clientListQuery, clientParams, clientSchema, deploymentParams, presentClient, serverCertificateBody, serverCertificateSchema } from './schemas.js';
import { caCertificate, currentCrl, deleteClient, getClient, issueServerCertificate, listClients } from './service.js';

const pemFile = z.string().describe('PEM text (application/x-pem-file)');

/** The native API of kdb Insights client enrollment; the Insights-compatible calls are in compat-insights. */
export default async function clientRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const route = routesOf(app, { tags: ['kdb-insights-clients'] });
  const base = '/v1/orgs/:org_id/resources/:resource_id';

  route({
    method: 'GET',
    url: `${base}/clients`,
    operationId: 'listInsightsClients',
    summary: 'List the clients enrolled in a kdb Insights deployment (never their client ids)',
    auth: 'client.read',
    params: deploymentParams,
    querystring: clientListQuery,
    response: { 200: listOf(clientSchema) },
    handler: async (request) => {
      const { org_id, resource_id } = request.params;
      const page = await listClients(deps, contextOf(request), org_id, resource_id, request.query);
      return presentPage(page, presentClient);
    },
  });

  route({
    method: 'GET',
    url: `${base}/clients/:name`,
    operationId: 'getInsightsClient',
    summary: 'Get an enrolled client',
    auth: 'client.read',
    params: clientParams,
    response: { 200: clientSchema },
    handler: async (request) => {
      const { org_id, resource_id, name } = request.params;
      return presentClient(await getClient(deps, contextOf(request), org_id, resource_id, name));
    },
  });

  route({
    method: 'DELETE',
    url: `${base}/clients/:name`,
    operationId: 'deleteInsightsClient',
    summary: 'Remove a client (as leave): its certificate goes on the CRL at once',
    auth: 'client.manage',
    params: clientParams,
    response: { 204: z.null().describe('Removed') },
    handler: async (request, reply) => {
      const { org_id, resource_id, name } = request.params;
      await deleteClient(deps, contextOf(request), org_id, resource_id, name);
      return reply.code(204).send(null);
    },
  });

  route({
    method: 'GET',
    url: `${base}/ca.pem`,
    operationId: 'getInsightsCaCertificate',
    summary: "The deployment CA's certificate (public)",
    auth: 'public',
    security: [],
    params: deploymentParams,
    response: { 200: pemFile },
    handler: async (request, reply) => {
      const pem = await caCertificate(deps, request.params.org_id, request.params.resource_id);
      return reply.header('cache-control', 'public, max-age=3600').type('application/x-pem-file').send(pem);
    },
  });

  route({
    method: 'GET',
    url: `${base}/crl.pem`,
    operationId: 'getInsightsCrl',
    summary: "The deployment CA's current CRL (public; ETag, If-None-Match)",
    auth: 'public',
    security: [],
    params: deploymentParams,
    response: { 200: pemFile, 304: z.null().describe('Not modified') },
    handler: async (request, reply) => {
      const { crl, number } = await currentCrl(deps, request.params.org_id, request.params.resource_id);
      const etag = `"crl-${number}"`;
      reply.header('etag', etag).header('cache-control', 'public, max-age=60, must-revalidate');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send(null);
      return reply.type('application/x-pem-file').send(crl);
    },
  });

  route({
    method: 'POST',
    url: `${base}/server-certificates`,
    operationId: 'createInsightsServerCertificate',
    summary: "A serverAuth certificate and key for one of the deployment's TLS servers; the key is in this response only",
    auth: 'server_certificate.issue',
    idempotent: true,
    params: deploymentParams,
    body: serverCertificateBody,
    response: { 201: serverCertificateSchema },
    handler: async (request, reply) => {
      const { org_id, resource_id } = request.params;
      return reply.code(201).send(await issueServerCertificate(deps, contextOf(request), org_id, resource_id, request.body));
    },
  });
}
