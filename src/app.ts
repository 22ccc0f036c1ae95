import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { RootTokenVerifier } from './auth/root-token.js';
import type { Config } from './config.js';
import { SecretHasher } from './crypto/hashing.js';
import type { Deps } from './deps.js';
import { FailureLimiter } from './lib/rate-limit.js';
import auditRoutes from './modules/audit/routes.js';
import environmentRoutes from './modules/environments/routes.js';
import healthRoutes from './modules/health/routes.js';
import orgRoutes from './modules/orgs/routes.js';
import principalRoutes from './modules/principals/routes.js';
import resourceRoutes from './modules/resources/routes.js';
import roleBindingRoutes from './modules/role-bindings/routes.js';
import authPlugin, { type Authenticator } from './plugins/auth.js';
import errorsPlugin from './plugins/errors.js';
import securityPlugin, { requestIdFrom } from './plugins/security.js';
import swaggerPlugin from './plugins/swagger.js';
import type { Store } from './store/index.js';

export const VERSION = '0.1.0';
const BODY_LIMIT = 1024 * 1024;

export interface AppOptions {
  config: Config;
  store: Store;
  masterKey: Buffer;
  logger: Logger;
}

/** Builds the whole service on a store. Never listens and never exits: server.ts and tests do that. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, store } = options;
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: BODY_LIMIT,
    // Slow clients must not hold sockets forever; keep-alive outlives common load balancer idle timeouts.
    requestTimeout: 30_000,
    connectionTimeout: 60_000,
    keepAliveTimeout: 72_000,
    trustProxy: config.LATCHKEY_TRUST_PROXY,
    genReqId: (request) => requestIdFrom(request.headers['x-request-id']),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
    ajv: { customOptions: { removeAdditional: false } },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const hasher = new SecretHasher({
    memoryCost: config.LATCHKEY_ARGON2_MEMORY_KIB,
    timeCost: config.LATCHKEY_ARGON2_TIME_COST,
    parallelism: config.LATCHKEY_ARGON2_PARALLELISM,
    concurrency: config.LATCHKEY_HASH_CONCURRENCY,
    queueLimit: config.LATCHKEY_HASH_QUEUE,
  });
  const deps: Deps = { config, store, db: store.prisma, hasher, masterKey: options.masterKey };
  const rootTokens = new RootTokenVerifier(store.prisma, hasher);

  const authenticators: Authenticator[] = [
    {
      scheme: 'bearer',
      // JWT access tokens (three dot-separated parts) are another authenticator's.
      accepts: (credential) => credential.split('.').length !== 3,
      authenticate: async (credential) => ((await rootTokens.verify(credential)) ? { kind: 'root' } : null),
    },
  ];

  await app.register(errorsPlugin);
  await app.register(securityPlugin);
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  await app.register(authPlugin, { authenticators, failures: new FailureLimiter(config.LATCHKEY_AUTH_FAILURES_PER_MINUTE) });
  await app.register(swaggerPlugin, { version: VERSION });

  for (const routes of [healthRoutes, orgRoutes, environmentRoutes, resourceRoutes, principalRoutes, roleBindingRoutes, auditRoutes]) {
    await app.register(routes, { deps });
  }
  return app as unknown as FastifyInstance;
}
