import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { RootTokenVerifier } from './auth/root-token.js';
import { SigningKeys } from './crypto/jwt.js';
import type { Config } from './config.js';
import { hashingOptionsFrom, SecretHasher } from './crypto/hashing.js';
import type { Deps } from './deps.js';
import { FailureLimiter, Tarpit } from './lib/rate-limit.js';
import apiKeyRoutes from './modules/api-keys/routes.js';
import { UsageRecorder } from './modules/api-keys/usage.js';
import auditRoutes from './modules/audit/routes.js';
import { ClientDetailsCache } from './modules/clients/details-cache.js';
import clientRoutes from './modules/clients/routes.js';
import insightsCompatRoutes from './modules/compat-insights/routes.js';
import confluentCompatRoutes from './modules/compat-confluent/routes.js';
import environmentRoutes from './modules/environments/routes.js';
import healthRoutes from './modules/health/routes.js';
import { ActorCache } from './modules/oauth/actor-cache.js';
import oauthRoutes from './modules/oauth/routes.js';
import { authenticateAccessToken, authenticateBasic } from './modules/oauth/service.js';
import orgRoutes from './modules/orgs/routes.js';
import principalRoutes from './modules/principals/routes.js';
import resourceRoutes from './modules/resources/routes.js';
import roleBindingRoutes from './modules/role-bindings/routes.js';
import verifyRoutes from './modules/verify/routes.js';
import { ApiKeyVerifier } from './modules/verify/verifier.js';
import authPlugin, { type Authenticator } from './plugins/auth.js';
import errorsPlugin from './plugins/errors.js';
import { responseSerializerCompiler } from './plugins/serializer.js';
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
  app.setSerializerCompiler(responseSerializerCompiler);

  const hasher = new SecretHasher(hashingOptionsFrom(config));
  const deps: Deps = {
    config,
    store,
    db: store.prisma,
    hasher,
    masterKey: options.masterKey,
    verifier: new ApiKeyVerifier(store.prisma, hasher, {
      cacheSize: config.LATCHKEY_VERIFY_CACHE_SIZE,
      cacheTtlMs: config.LATCHKEY_VERIFY_CACHE_TTL_SECONDS * 1000,
    }),
    actors: new ActorCache(),
    usage: new UsageRecorder(store.prisma, options.logger),
    accessTokenKeys: new SigningKeys(store.prisma, options.masterKey, 'access_token', 'latchkey'),
    verifyFailures: {
      byKey: new FailureLimiter(config.LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE),
      byAddress: new FailureLimiter(config.LATCHKEY_VERIFY_FAILURES_PER_ADDRESS_PER_MINUTE),
    },
    authFailures: new FailureLimiter(config.LATCHKEY_AUTH_FAILURES_PER_MINUTE),
    tarpit: new Tarpit(config.LATCHKEY_RATE_LIMITED_DELAY_MS),
    clientDetails: new ClientDetailsCache(config.LATCHKEY_CLIENT_DETAILS_CACHE_SIZE),
    clientFailures: new FailureLimiter(config.LATCHKEY_CLIENT_DETAILS_FAILURES_PER_ADDRESS_PER_MINUTE),
  };
  const rootTokens = new RootTokenVerifier(store.prisma, hasher);

  // Revocations from any replica (and this one) reach the caches here.
  const unsubscribe = store.bus.subscribe((invalidation) => {
    if (invalidation === 'all') {
      deps.verifier.clear();
      deps.actors.clear();
    } else if (invalidation.kind === 'api_key') {
      deps.verifier.invalidate(invalidation.ids);
      deps.actors.invalidate(invalidation.ids);
    }
    if (invalidation === 'all') deps.clientDetails.clear();
    else if (invalidation.kind === 'client') deps.clientDetails.invalidate(invalidation.ids);
  });
  app.addHook('onClose', async () => {
    unsubscribe();
    await deps.usage.flush();
  });

  const isJwt = (credential: string) => credential.split('.').length === 3;
  const authenticators: Authenticator[] = [
    {
      scheme: 'bearer',
      accepts: (credential) => !isJwt(credential),
      authenticate: async (credential) => ((await rootTokens.verify(credential)) ? { kind: 'root' } : null),
    },
    { scheme: 'bearer', accepts: isJwt, authenticate: (credential) => authenticateAccessToken(deps, credential) },
    { scheme: 'basic', accepts: () => true, authenticate: (credential) => authenticateBasic(deps, credential) },
  ];

  await app.register(errorsPlugin, { tarpit: deps.tarpit });
  await app.register(securityPlugin);
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  await app.register(authPlugin, { authenticators, failures: deps.authFailures });
  await app.register(swaggerPlugin, { version: VERSION });

  const modules = [
    healthRoutes,
    oauthRoutes,
    orgRoutes,
    environmentRoutes,
    resourceRoutes,
    principalRoutes,
    roleBindingRoutes,
    apiKeyRoutes,
    verifyRoutes,
    auditRoutes,
    confluentCompatRoutes,
    clientRoutes,
    insightsCompatRoutes,
  ];
  for (const routes of modules) {
    await app.register(routes, { deps });
  }
  return app as unknown as FastifyInstance;
}
