import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { standardErrors } from '../schemas/common.js';
import { modeOf } from './auth.js';

const DOCS_PREFIX = '/docs';
/** The header every create accepts (config.idempotent); the idempotency plugin checks it, this documents it. */
const IDEMPOTENCY_KEY_HEADER = {
  type: 'object',
  properties: {
    'Idempotency-Key': {
      type: 'string',
      minLength: 16,
      maxLength: 255,
      pattern: '^[\\x21-\\x7E]{16,255}$',
      description: 'Makes a retry safe: the same key and body within 24 hours replays the first response (Idempotent-Replayed: true) instead of creating again',
      example: 'ci-run-4711-create-orders-key',
    },
  },
} as const;

type TransformInput = Parameters<typeof jsonSchemaTransform>[0];
const documentIdempotencyKey = (input: TransformInput) => {
  const output = jsonSchemaTransform(input);
  if ((input.route as { config?: { idempotent?: boolean } }).config?.idempotent) {
    (output.schema as Record<string, unknown>).headers = IDEMPOTENCY_KEY_HEADER;
  }
  return output;
};

const SECURITY = {
  public: [],
  root: [{ rootToken: [] }],
  management: [{ rootToken: [] }, { cloudApiKey: [] }, { accessToken: [] }],
} as const;

/**
 * The OpenAPI document is generated from the routes' zod schemas. Each route states its auth
 * once (config.auth: public, root or an action); this plugin derives the security requirement and adds the shared problem
 * responses, so no route repeats them.
 */
async function swaggerPlugin(app: FastifyInstance, options: { version: string }) {
  // Swagger UI's own routes (HTML, scripts, the document it shows) are public documentation.
  app.addHook('onRoute', (route) => {
    if (route.url === DOCS_PREFIX || route.url.startsWith(`${DOCS_PREFIX}/`)) route.config = { ...route.config, auth: 'public' };
  });
  // @fastify/swagger marks every request body required; these routes' schemas accept none.
  const optionalBodies = new Set<string>();
  app.addHook('onRoute', (route) => {
    const schema = route.schema as Record<string, unknown> | undefined;
    if (!schema || schema.hide) return;
    const body = schema.body as { safeParse?: (value: unknown) => { success: boolean } } | undefined;
    if (body?.safeParse?.(undefined).success) {
      for (const method of [route.method].flat()) optionalBodies.add(`${method.toLowerCase()} ${route.url.replace(/:(\w+)/g, '{$1}')}`);
    }
    const auth = modeOf(route.config?.auth);
    schema.security ??= SECURITY[auth];
    const response = (schema.response ?? {}) as Record<string, unknown>;
    const errors: Record<string, unknown> =
      auth === 'public'
        ? {
            400: standardErrors[400],
            413: standardErrors[413],
            415: standardErrors[415],
            422: standardErrors[422],
            500: standardErrors[500],
            503: standardErrors[503],
          }
        : standardErrors;
    // Problems are sent as application/problem+json (RFC 9457); the document says so, and Fastify
    // picks the serializer by that content type.
    for (const [status, problem] of Object.entries(errors)) {
      response[status] ??= { description: 'Problem details', content: { 'application/problem+json': { schema: problem } } };
    }
    schema.response = response;
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Latchkey',
        version: options.version,
        description: 'Issue, rotate, revoke and verify credentials for streaming infrastructure.',
        license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      },
      servers: [{ url: '/' }],
      tags: [
        { name: 'service', description: 'Health and documentation' },
        { name: 'organizations', description: 'Tenants' },
        { name: 'environments', description: 'Environments of an organization' },
        { name: 'resources', description: 'Clusters, schema registries and ksqlDB apps' },
        { name: 'service-accounts', description: 'Non-human principals' },
        { name: 'users', description: 'Human principals' },
        { name: 'role-bindings', description: 'Roles of principals on scopes' },
        { name: 'api-keys', description: 'Resource, cloud and Flink API keys' },
        { name: 'access-keys', description: 'Fluvio-style access keys of fluvio clusters, for WebSocket gateways' },
        { name: 'cluster-keys', description: 'Pulsar cluster keys (signed JWTs), their signing keys, JWKS and revocation feed' },
        { name: 'verify', description: 'Verification endpoints for data planes' },
        { name: 'oauth', description: 'Access tokens for the management API' },
        { name: 'audit', description: 'The audit trail' },
        { name: 'confluent-iam-v2', description: 'Confluent Cloud IAM v2 compatible API keys and service accounts (Basic auth with a cloud API key)' },
        { name: 'kdb-insights-clients', description: 'kdb Insights deployments: enrolled clients, CA certificate, CRL and server certificates' },
        { name: 'kdb-insights-compatible', description: 'kdb Insights client controller and information service compatible enrol, details and leave' },
      ],
      components: {
        securitySchemes: {
          rootToken: { type: 'http', scheme: 'bearer', description: 'The platform operator root token (lkr_...)' },
          cloudApiKey: { type: 'http', scheme: 'basic', description: 'A cloud API key as key_id:secret' },
          accessToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'From POST /oauth2/token' },
        },
      },
    },
    transform: documentIdempotencyKey,
    transformObject: (input) => {
      const document = jsonSchemaTransformObject(input) as { paths?: Record<string, Record<string, { requestBody?: { required?: boolean } }>> };
      for (const [path, item] of Object.entries(document.paths ?? {})) {
        for (const [method, operation] of Object.entries(item)) {
          if (operation.requestBody && optionalBodies.has(`${method} ${path}`)) operation.requestBody.required = false;
        }
      }
      return document as ReturnType<typeof jsonSchemaTransformObject>;
    },
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    staticCSP: true,
    // Operators open /docs over plain HTTP on an internal name; upgrade-insecure-requests would make
    // the browser fetch the page's own scripts over HTTPS there, and the page would stay blank.
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/g, ''),
  });
  app.get('/openapi.json', { schema: { hide: true }, config: { auth: 'public' } }, async () => app.swagger());
}

export default fp(swaggerPlugin, { name: 'swagger', fastify: '5.x' });
