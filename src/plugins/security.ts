import { randomBytes } from 'node:crypto';
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** Request ids: the caller's X-Request-Id when it is sane, else a fresh one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  if (typeof header === 'string' && SANE_REQUEST_ID.test(header)) return header;
  return `req_${randomBytes(12).toString('base64url')}`;
}

async function securityPlugin(app: FastifyInstance) {
  // An API serves no documents of its own: deny everything by default. /docs sets its own CSP.
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    crossOriginEmbedderPolicy: false,
    hsts: { maxAge: 31_536_000, includeSubDomains: true },
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // Responses may carry secrets shown once; no cache may keep them.
    reply.header('cache-control', 'no-store');
  });
}

export default fp(securityPlugin, { name: 'security', fastify: '5.x' });
