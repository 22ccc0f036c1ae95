import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { accessTokenAuthenticator } from './auth/access-token.js';
import { actorCache } from './auth/actor-cache.js';
import { basicAuthenticator } from './auth/basic.js';
import { RootTokenVerifier, rootTokenAuthenticator } from './auth/root-token.js';
import { type Config, fastifyTrustProxy, publicUrlOf } from './config.js';
import { hashingOptionsFrom, SecretHasher } from './crypto/hashing.js';
import { SigningKeys } from './crypto/jwt.js';
import type { Deps } from './deps.js';
import { CredentialFailureLimits, FailureLimiter, Tarpit } from './lib/rate-limit.js';
import { LazyChildLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { KeyFilterFetcher, type KeyFilterOptions } from './modules/access-keys/key-filter.js';
import accessKeyRoutes from './modules/access-keys/routes.js';
import { AccessKeyVerifier } from './modules/access-keys/verifier.js';
import apiKeyRoutes from './modules/api-keys/routes.js';
import { UsageRecorder } from './modules/api-keys/usage.js';
import { ApiKeyVerifier } from './modules/api-keys/verifier.js';
import auditRoutes from './modules/audit/routes.js';
import { clientDetailsCache } from './modules/clients/details-cache.js';
import clientRoutes from './modules/clients/routes.js';
import clusterKeyRoutes from './modules/cluster-keys/routes.js';
import { purgeClusterKeys } from './modules/cluster-keys/service.js';
import { ClusterSigningKeys } from './modules/cluster-keys/signing-keys.js';
import { ClusterKeyVerifier } from './modules/cluster-keys/verifier.js';
import confluentCompatRoutes from './modules/compat-confluent/routes.js';
import insightsCompatRoutes from './modules/compat-insights/routes.js';
import environmentRoutes from './modules/environments/routes.js';
import healthRoutes from './modules/health/routes.js';
import oauthRoutes from './modules/oauth/routes.js';
import orgRoutes from './modules/orgs/routes.js';
import principalRoutes from './modules/principals/routes.js';
import resourceRoutes from './modules/resources/routes.js';
import roleBindingRoutes from './modules/role-bindings/routes.js';
import verifyRoutes from './modules/verify/routes.js';
import authPlugin from './plugins/auth.js';
import errorsPlugin, { clientErrorHandler, frameworkErrorHandler } from './plugins/errors.js';
import idempotencyPlugin from './plugins/idempotency.js';
import inputPlugin from './plugins/input.js';
import metricsPlugin from './plugins/metrics.js';
import securityPlugin, { requestIdFrom } from './plugins/security.js';
import { responseSerializerCompiler } from './plugins/serializer.js';
import swaggerPlugin from './plugins/swagger.js';
import type { Store } from './store/index.js';
import type { CredentialKind } from './store/invalidation.js';

const VERSION = '0.1.0';
const BODY_LIMIT = 1024 * 1024;

export interface AppOptions {
  config: Config;
  store: Store;
  masterKey: Buffer;
  logger: Logger;
  /** Test seams for the remote key-filter fetcher; server.ts never sets them. */
  keyFilterSeams?: Pick<KeyFilterOptions, 'lookup' | 'ca' | 'beforeConnect'>;
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
    trustProxy: fastifyTrustProxy(config.LATCHKEY_TRUST_PROXY),
    genReqId: (request) => requestIdFrom(request.headers['x-request-id']),
    childLoggerFactory: (logger, bindings, childOptions) => new LazyChildLogger(logger as Logger, bindings, childOptions) as unknown as FastifyBaseLogger,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true },
    ajv: { customOptions: { removeAdditional: false } },
    // Errors raised before routing (bad URL encoding, over-long segments) and by Node's HTTP parser
    // (oversized headers) are problem+json too, and never log the raw request bytes.
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(responseSerializerCompiler);

  const hasher = new SecretHasher(hashingOptionsFrom(config));
  const clusterSigningKeys = new ClusterSigningKeys(store.prisma, options.masterKey);
  const deps: Deps = {
    config,
    store,
    db: store.prisma,
    hasher,
    masterKey: options.masterKey,
    verifier: new ApiKeyVerifier(store.prisma, hasher, {
      cacheSize: config.LATCHKEY_VERIFY_CACHE_SIZE,
      cacheTtlMs: config.LATCHKEY_VERIFY_CACHE_TTL_SECONDS * 1000,
      cacheUsable: () => store.bus.healthy,
    }),
    actors: actorCache(() => store.bus.healthy),
    usage: new UsageRecorder(store.prisma, options.logger),
    accessTokenKeys: new SigningKeys(store.prisma, options.masterKey, 'access_token', 'latchkey'),
    verifyFailures: new CredentialFailureLimits(
      new FailureLimiter(config.LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE),
      new FailureLimiter(config.LATCHKEY_VERIFY_FAILURES_PER_ADDRESS_PER_MINUTE),
    ),
    authFailures: new FailureLimiter(config.LATCHKEY_AUTH_FAILURES_PER_MINUTE),
    tarpit: new Tarpit(config.LATCHKEY_RATE_LIMITED_DELAY_MS),
    accessKeys: new AccessKeyVerifier(store.prisma, hasher, {
      cacheSize: config.LATCHKEY_VERIFY_CACHE_SIZE,
      cacheTtlMs: config.LATCHKEY_VERIFY_CACHE_TTL_SECONDS * 1000,
      cacheUsable: () => store.bus.healthy,
    }),
    accessKeyUsage: new UsageRecorder(store.prisma, options.logger, 'access_keys'),
    keyFilter: new KeyFilterFetcher({
      allowedHosts: config.LATCHKEY_KEY_FILTER_ALLOWED_HOSTS,
      timeoutMs: config.LATCHKEY_KEY_FILTER_TIMEOUT_MS,
      cacheSeconds: config.LATCHKEY_KEY_FILTER_CACHE_SECONDS,
      maxConcurrency: config.LATCHKEY_KEY_FILTER_MAX_CONCURRENCY,
      logger: options.logger,
      ...options.keyFilterSeams,
    }),
    clusterSigningKeys,
    clusterKeyVerifier: new ClusterKeyVerifier(store.prisma, clusterSigningKeys, {
      cacheSize: config.LATCHKEY_VERIFY_CACHE_SIZE,
      cacheTtlMs: config.LATCHKEY_VERIFY_CACHE_TTL_SECONDS * 1000,
      publicUrl: publicUrlOf(config),
      cacheUsable: () => store.bus.healthy,
    }),
    clusterKeyUsage: new UsageRecorder(store.prisma, options.logger, 'cluster_keys'),
    clientDetails: clientDetailsCache(config.LATCHKEY_CLIENT_DETAILS_CACHE_SIZE, () => store.bus.healthy),
    clientFailures: new FailureLimiter(config.LATCHKEY_CLIENT_DETAILS_FAILURES_PER_ADDRESS_PER_MINUTE),
  };
  const rootTokens = new RootTokenVerifier(store.prisma, hasher, config.LATCHKEY_ROOT_TOKEN);

  // Revocations from any replica (and this one) reach the caches here: each credential kind names
  // the caches that hold its credentials; 'all' (the listener was lost or re-established) clears them all.
  const cachesOf: Record<CredentialKind, ReadonlyArray<{ invalidate(ids: Iterable<string>): void; clear(): void }>> = {
    api_key: [deps.verifier, deps.actors],
    cluster_key: [deps.clusterKeyVerifier],
    access_key: [deps.accessKeys],
    client: [deps.clientDetails],
  };
  const unsubscribe = store.bus.subscribe((invalidation) => {
    if (invalidation === 'all') {
      for (const caches of Object.values(cachesOf)) for (const cache of caches) cache.clear();
    } else {
      for (const cache of cachesOf[invalidation.kind]) cache.invalidate(invalidation.ids);
    }
  });
  // Revoked cluster keys leave the listings after the retention period (their jti stays revoked).
  const purgeTimer = setInterval(() => {
    purgeClusterKeys(deps).catch((error: unknown) => options.logger.warn({ err: error }, 'could not purge revoked cluster keys'));
  }, config.LATCHKEY_CLUSTER_KEY_PURGE_INTERVAL_SECONDS * 1000);
  purgeTimer.unref();
  app.addHook('onClose', async () => {
    unsubscribe();
    clearInterval(purgeTimer);
    await deps.usage.flush();
    await deps.accessKeyUsage.flush();
    await deps.keyFilter.close();
    await deps.clusterKeyUsage.flush();
  });

  const authenticators = [rootTokenAuthenticator(rootTokens), accessTokenAuthenticator(deps), basicAuthenticator(deps)];

  await app.register(errorsPlugin, { tarpit: deps.tarpit });
  await app.register(securityPlugin);
  await app.register(inputPlugin);
  await app.register(authPlugin, { authenticators, failures: deps.authFailures });
  await app.register(swaggerPlugin, { version: VERSION });
  await app.register(idempotencyPlugin, { db: store.prisma, masterKey: options.masterKey });
  if (config.LATCHKEY_METRICS_PORT !== undefined) {
    const metrics = new Metrics({ hashQueueDepth: () => hasher.queueDepth, pingStore: () => store.ping() });
    metrics.watchVerifyCache(deps.verifier.stats);
    metrics.watchVerifyCache(deps.accessKeys.stats);
    metrics.watchVerifyCache(deps.clusterKeyVerifier.stats);
    metrics.watchVerifyCache(deps.clientDetails.stats);
    await app.register(metricsPlugin, { metrics, bus: store.bus });
  } else {
    app.decorate('metrics', null);
  }

  const modules = [
    healthRoutes,
    oauthRoutes,
    orgRoutes,
    environmentRoutes,
    resourceRoutes,
    principalRoutes,
    roleBindingRoutes,
    apiKeyRoutes,
    accessKeyRoutes,
    clusterKeyRoutes,
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
