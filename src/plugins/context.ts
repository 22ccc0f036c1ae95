import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../auth/actor.js';
import { actorOf } from './auth.js';

/** The service-layer view of a request: who, and what to write in the audit trail. */
export function contextOf(request: FastifyRequest): RequestContext {
  return { actor: actorOf(request), requestId: request.id, sourceIp: request.ip };
}
