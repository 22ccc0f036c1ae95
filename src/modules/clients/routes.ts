import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { contextOf } from '../../plugins/context.js';
import { listOf } from '../../schemas/common.js';
import {
  clientListQuery,
  clientParams,
  clientSchema,
  deploymentParams,
  presentClient,
  serverCertificateBody,
  serverCertificateSchema,
} from './schemas.js';
import { caCertificate, currentCrl, deleteClient, getClient, issueServerCertificate, listClients } from './service.js';

const tags = ['kdb-insights-clients'];
const pemFile = z.string().describe('PEM text (application/x-pem-file)');

/** The native API of kdb Insights client enrollment; the Insights-compatible calls are in compat-insights. */
export default async function clientRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const base = '/v1/orgs/:org_id/resources/:resource_id';

  r.get(`${base}/clients`, {
    config: { auth: 'management' },
    schema: { operationId: 'listInsightsClients', tags, summary: 'List the clients enrolled in a kdb Insights deployment (never their client ids)', params: deploymentParams, querystring: clientListQuery, response: { 200: listOf(clientSchema) } },
  }, async (request) => {
    const { org_id, resource_id } = request.params;
    const page = await listClients(deps, contextOf(request), org_id, resource_id, request.query);
    return { data: page.data.map(presentClient), next_page_token: page.next_page_token };
  });

  r.get(`${base}/clients/:name`, {
    config: { auth: 'management' },
    schema: { operationId: 'getInsightsClient', tags, summary: 'Get an enrolled client', params: clientParams, response: { 200: clientSchema } },
  }, async (request) => {
    const { org_id, resource_id, name } = request.params;
    return presentClient(await getClient(deps, contextOf(request), org_id, resource_id, name));
  });

  r.delete(`${base}/clients/:name`, {
    config: { auth: 'management' },
    schema: { operationId: 'deleteInsightsClient', tags, summary: 'Remove a client (as leave): its certificate goes on the CRL at once', params: clientParams, response: { 204: z.null().describe('Removed') } },
  }, async (request, reply) => {
    const { org_id, resource_id, name } = request.params;
    await deleteClient(deps, contextOf(request), org_id, resource_id, name);
    return reply.code(204).send(null);
  });

  r.get(`${base}/ca.pem`, {
    config: { auth: 'public' },
    schema: { operationId: 'getInsightsCaCertificate', tags, summary: "The deployment CA's certificate (public)", security: [], params: deploymentParams, response: { 200: pemFile } },
  }, async (request, reply) => {
    const pem = await caCertificate(deps, request.params.org_id, request.params.resource_id);
    return reply.header('cache-control', 'public, max-age=3600').type('application/x-pem-file').send(pem);
  });

  r.get(`${base}/crl.pem`, {
    config: { auth: 'public' },
    schema: { operationId: 'getInsightsCrl', tags, summary: "The deployment CA's current CRL (public; ETag, If-None-Match)", security: [], params: deploymentParams, response: { 200: pemFile, 304: z.null().describe('Not modified') } },
  }, async (request, reply) => {
    const { crl, number } = await currentCrl(deps, request.params.org_id, request.params.resource_id);
    const etag = `"crl-${number}"`;
    reply.header('etag', etag).header('cache-control', 'public, max-age=60, must-revalidate');
    if (request.headers['if-none-match'] === etag) return reply.code(304).send(null);
    return reply.type('application/x-pem-file').send(crl);
  });

  r.post(`${base}/server-certificates`, {
    config: { auth: 'management', idempotent: true },
    schema: { operationId: 'createInsightsServerCertificate', tags, summary: "A serverAuth certificate and key for one of the deployment's TLS servers; the key is in this response only", params: deploymentParams, body: serverCertificateBody, response: { 201: serverCertificateSchema } },
  }, async (request, reply) => {
    const { org_id, resource_id } = request.params;
    return reply.code(201).send(await issueServerCertificate(deps, contextOf(request), org_id, resource_id, request.body));
  });
}
