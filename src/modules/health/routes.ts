import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Deps } from '../../deps.js';

const tags = ['service'];

export default async function healthRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/healthz', {
    config: { auth: 'public' },
    schema: { operationId: 'getHealth', tags, summary: 'Liveness: the process answers', response: { 200: z.object({ status: z.literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  r.get('/readyz', {
    config: { auth: 'public' },
    schema: {
      operationId: 'getReadiness',
      tags,
      summary: 'Readiness: the store answers',
      response: {
        200: z.object({ status: z.literal('ok'), store: z.enum(['postgres', 'pglite']) }),
        503: z.object({ status: z.literal('unavailable'), store: z.enum(['postgres', 'pglite']) }),
      },
    },
  }, async (_request, reply) => {
    const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('store ping timed out')), 2000).unref());
    try {
      await Promise.race([deps.store.ping(), timeout]);
      return { status: 'ok' as const, store: deps.store.kind };
    } catch {
      return reply.code(503).header('retry-after', '2').send({ status: 'unavailable' as const, store: deps.store.kind });
    }
  });
}
