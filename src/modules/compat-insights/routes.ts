import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Deps } from '../../deps.js';
import { DomainError } from '../../errors.js';
import { routesOf } from '../../lib/route.js';
import { actorOf } from '../../plugins/auth.js';
import { contextOf } from '../../plugins/context.js';
import { type ErrorShape, handleErrors } from '../../plugins/errors.js';
import { standardErrors } from '../../schemas/common.js';
import { clientDetailsSchema, clientIdParam, deploymentQuery, enrolBody, enrolledSchema, failureSchema, leaveBody, removedSchema } from '../clients/schemas.js';
import { clientDetails, enrolClient, leaveClient, resolveDeployment } from '../clients/service.js';

const tags = ['kdb-insights-compatible'];
const BODY_LIMIT = 64 * 1024;
const errors = Object.fromEntries(Object.keys(standardErrors).map((status) => [status, failureSchema])) as Record<
  keyof typeof standardErrors,
  typeof failureSchema
>;

/** Insights' error shape; the status is the catalogue's, as everywhere. */
const insightsFailure: ErrorShape = (reply, _request, error) =>
  reply.type('application/json').send(JSON.stringify({ message: 'failure', detail: error.detail }));

/**
 * What every compatible scope shares: bodies read as JSON whatever the Content-Type (`curl -d`
 * sends application/x-www-form-urlencoded), and errors, the auth hook's included, in Insights'
 * `{"message":"failure","detail"}` shape. Details never echo the path: it may hold a client id.
 */
function insightsScope(scope: FastifyInstance, deps: Deps, prefix: string): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(
    '*',
    { parseAs: 'string', bodyLimit: BODY_LIMIT },
    (_request: FastifyRequest, body: string | Buffer, done: (error: Error | null, body?: unknown) => void) => {
      const text = body.toString();
      if (text.trim() === '') return done(new DomainError('bad_request', 'the body is empty; send a JSON object'));
      try {
        done(null, JSON.parse(text));
      } catch {
        done(new DomainError('malformed_json', 'the body is not valid JSON'));
      }
    },
  );
  handleErrors(scope, deps.tarpit, insightsFailure, (request) => `no route ${request.method} under ${prefix}`);
}

async function clientControllerRoutes(scope: FastifyInstance, deps: Deps) {
  insightsScope(scope, deps, '/clientcontroller');
  const route = routesOf(scope, { tags, errors });

  route({
    method: 'POST',
    url: '/enrol',
    operationId: 'insightsEnrolClient',
    summary: 'Enrol a client in a kdb Insights deployment (Insights client controller); the client id is in this response only',
    auth: 'client.manage',
    idempotent: true,
    querystring: deploymentQuery,
    body: enrolBody,
    response: { 200: enrolledSchema },
    handler: async (request) => {
      const deployment = await resolveDeployment(deps, actorOf(request), request.query.resource_id);
      const clientId = await enrolClient(deps, contextOf(request), deployment, request.body, request.query.force === 'true');
      return { message: 'success', detail: 'Client enrolled', url: clientId } as const;
    },
  });

  route({
    method: 'POST',
    url: '/leave',
    operationId: 'insightsLeaveClient',
    summary: 'Remove a client; its certificate goes on the CRL at once',
    auth: 'client.manage',
    querystring: deploymentQuery,
    body: leaveBody,
    response: { 200: removedSchema },
    handler: async (request) => {
      const deployment = await resolveDeployment(deps, actorOf(request), request.query.resource_id);
      await leaveClient(deps, contextOf(request), deployment, request.body.name);
      return { message: 'success', detail: 'Client removed' } as const;
    },
  });
}

async function informationServiceRoutes(scope: FastifyInstance, deps: Deps) {
  insightsScope(scope, deps, '/informationservice');
  const route = routesOf(scope, { tags, errors });

  route({
    method: 'GET',
    url: '/details/:client_id',
    operationId: 'insightsClientDetails',
    summary: "A client's CA, certificate, key and endpoints; the client id is the credential (re-readable)",
    auth: 'public',
    security: [],
    params: clientIdParam,
    response: { 200: clientDetailsSchema },
    handler: async (request) => {
      const details = await clientDetails(deps, request.params.client_id, request.ip);
      if (!details) throw new DomainError('not_found', 'no client is enrolled with this client id');
      return {
        name: details.name,
        topics: { insert: details.insertTopic, query: details.queryTopic },
        ca: details.caCertificate,
        cert: details.certificate,
        key: details.privateKey,
        insert: { insert: details.endpoints.insert.insert, query: details.endpoints.insert.query },
        query: details.endpoints.query,
      };
    },
  });
}

/**
 * kdb Insights' client controller and information service, compatible with the seed's curl calls
 * and the KX SDKs. Each prefix is its own encapsulated scope (not fastify-plugin wrapped), so its
 * body parsing and error shape stay inside it.
 */
export default async function insightsCompatRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  await app.register((scope) => clientControllerRoutes(scope, deps), { prefix: '/clientcontroller' });
  await app.register((scope) => informationServiceRoutes(scope, deps), { prefix: '/informationservice' });
}
