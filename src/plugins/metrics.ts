import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { withHook } from '../lib/route.js';
import type { Metrics } from '../metrics.js';
import type { CredentialKind, InvalidationBus } from '../store/invalidation.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's Prometheus series; null when LATCHKEY_METRICS_PORT is unset. */
    metrics: Metrics | null;
  }
}

type PreSerialization = (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void) => void;

/** The route label of requests no route matched: raw paths would make one series per scanner probe. */
const UNMATCHED_ROUTE = 'unmatched';

interface MetricsPluginOptions {
  metrics: Metrics;
  bus: InvalidationBus;
}

/** The verify answer's `code` values a route's 200 schema declares (a zod enum), to start them at zero. */
function declaredCodes(route: RouteOptions): string[] {
  const ok = (route.schema?.response as Record<string, unknown> | undefined)?.[200] as { shape?: { code?: { options?: unknown } } } | undefined;
  const options = ok?.shape?.code?.options;
  return Array.isArray(options) ? options.filter((code): code is string => typeof code === 'string') : [];
}

async function metricsPlugin(app: FastifyInstance, { metrics, bus }: MetricsPluginOptions) {
  app.decorate('metrics', metrics);

  // Callback-style hooks: no promise per request on the hot path.
  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const route = request.is404 ? UNMATCHED_ROUTE : (request.routeOptions.url ?? UNMATCHED_ROUTE);
    metrics.countRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  // Verifications are counted in one place: a hook on the routes that declare their credential
  // kind, and on the batch route, whose answers line up with its items.
  app.addHook('onRoute', (route) => {
    const kind = route.config?.verifyKind;
    let count: PreSerialization;
    if (kind) {
      for (const code of declaredCodes(route)) metrics.countVerification(kind, code, 0);
      count = (_request, _reply, payload, done) => {
        const code = (payload as { code?: unknown } | null)?.code;
        if (typeof code === 'string') metrics.countVerification(kind, code);
        done(null, payload);
      };
    } else if (route.config?.verifyBatch) {
      count = (request, _reply, payload, done) => {
        const { items } = request.body as { items: Array<{ kind: CredentialKind }> };
        const results = (payload as { results?: Array<{ code: string }> } | null)?.results ?? [];
        for (const [index, result] of results.entries()) metrics.countVerification(items[index]!.kind, result.code);
        done(null, payload);
      };
    } else {
      return;
    }
    route.preSerialization = withHook(route.preSerialization, count);
  });

  const unsubscribe = bus.subscribe((invalidation) => {
    if (invalidation === 'all' || invalidation.sentAt === undefined) return;
    metrics.invalidationLag.observe(Math.max(0, Date.now() - invalidation.sentAt) / 1000);
  });
  app.addHook('onClose', async () => unsubscribe());
}

export default fp(metricsPlugin, { name: 'metrics', fastify: '5.x' });
