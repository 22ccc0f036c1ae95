import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../../deps.js';
import { routesOf } from '../../lib/route.js';

export default async function healthRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const route = routesOf(app, { tags: ['service'] });
  route({
    method: 'GET',
    url: '/healthz',
    operationId: 'getHealth',
    summary: 'Liveness: the process answers',
    auth: 'public',
    response: { 200: z.object({ status: z.literal('ok') }) },
    handler: async () => ({ status: 'ok' as const }),
  });

  route({
    method: 'GET',
    url: '/readyz',
    operationId: 'getReadiness',
    summary: 'Readiness: the store answers',
    auth: 'public',
    response: {
      200: z.object({ status: z.literal('ok'), store: z.enum(['postgres', 'pglite']) }),
      503: z.object({ status: z.literal('unavailable'), store: z.enum(['postgres', 'pglite']) }),
    },
    handler: async (_request, reply) => {
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('store ping timed out')), 2000).unref());
      try {
        await Promise.race([deps.store.ping(), timeout]);
        return { status: 'ok' as const, store: deps.store.kind };
      } catch {
        return reply
          .code(503)
          .header('retry-after', '2')
          .send({ status: 'unavailable' as const, store: deps.store.kind });
      }
    },
  });
}
