import { createHash, hkdfSync, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onSendHookHandler, preHandlerHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { actorId } from '../auth/actor.js';
import { open, seal } from '../crypto/envelope.js';
import { DomainError } from '../errors.js';
import { withHook } from '../lib/route.js';
import { claimIdempotencyKey, completeIdempotencyKey, purgeExpiredIdempotencyRecords, releaseIdempotencyKey } from '../store/idempotency.js';
import type { Db } from '../store/index.js';
import { actorOf } from './auth.js';

/** 16–255 visible ASCII characters (%x21-7E), as API.md says. */
const IDEMPOTENCY_KEY = /^[\x21-\x7E]{16,255}$/;
const HEADER = 'idempotency-key';

/** A response is replayable for this long after the first attempt completed. */
const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/**
 * An in-flight claim whose request died (the process crashed mid-create) blocks duplicates for at
 * most this long; requests time out after 30 s, so a live one never outlasts it.
 */
const IDEMPOTENCY_LEASE_MS = 2 * 60_000;
const PURGE_EVERY_MS = 10 * 60_000;
/** Headers of the first response that a replay repeats; the rest (request id, security headers) are per request. */
const REPLAYED_HEADERS = ['content-type', 'location'] as const;

interface Claim {
  scope: string;
  keyHash: string;
  owner: string;
  key: Buffer;
  context: string;
}

interface StoredResponse {
  status: number;
  headers: Partial<Record<(typeof REPLAYED_HEADERS)[number], string>>;
  body: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    idempotencyClaim: Claim | null;
  }
}

/** JSON with object keys sorted at every depth: bodies that differ only in key order are the same request. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What makes two requests the same: method, route template, path parameters and the parsed body. */
export function requestFingerprint(method: string, route: string, params: unknown, body: unknown): string {
  return sha256([method, route, canonicalJson(params ?? {}), canonicalJson(body ?? null)].join('\n'));
}

interface IdempotencyPluginOptions {
  db: Db;
  masterKey: Buffer;
}

/**
 * Idempotency-Key on the routes whose config says `idempotent: true`: at most one create per
 * (caller, key) within 24 hours. The claim is a row whose primary key is (caller, SHA-256 of the
 * key), so concurrent duplicates on any replica see one winner. The first successful response is
 * stored sealed (AES-256-GCM) under a key derived with HKDF from the master key and the
 * Idempotency-Key, which the database never holds: a copy of the database alone reveals no secret.
 */
async function idempotencyPlugin(app: FastifyInstance, { db, masterKey }: IdempotencyPluginOptions) {
  app.decorateRequest('idempotencyClaim', null);

  const claim: preHandlerHookHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const header = request.headers[HEADER];
    if (header === undefined) return;
    if (typeof header !== 'string' || !IDEMPOTENCY_KEY.test(header)) {
      const message = 'must be 16 to 255 visible ASCII characters (letters, digits, punctuation; no spaces)';
      throw new DomainError('invalid_idempotency_key', `Idempotency-Key ${message}`, { errors: [{ path: 'Idempotency-Key', message }] });
    }
    const scope = actorId(actorOf(request));
    const keyHash = sha256(header);
    const fingerprint = requestFingerprint(request.method, request.routeOptions.url ?? '', request.params, request.body);
    const owner = randomUUID();
    const result = await claimIdempotencyKey(db, { scope, keyHash, fingerprint, owner, leaseMs: IDEMPOTENCY_LEASE_MS, ttlMs: IDEMPOTENCY_TTL_MS });
    const key = Buffer.from(hkdfSync('sha256', masterKey, 'latchkey idempotent response', `${scope}\0${header}`, 32));
    const context = `idempotency:${scope}:${keyHash}:${fingerprint}`;

    switch (result.state) {
      case 'claimed':
        request.idempotencyClaim = { scope, keyHash, owner, key, context };
        return;
      case 'reused':
        throw new DomainError(
          'idempotency_key_reused',
          'this Idempotency-Key was already used for a different request (method, path or body); use a new key for a new request',
        );
      case 'in_flight':
        throw new DomainError('idempotency_key_in_flight', 'a request with this Idempotency-Key is still being processed; retry shortly', {
          retryAfterSeconds: 1,
        });
      case 'completed': {
        const stored = JSON.parse(open(key, result.response, context).toString('utf8')) as StoredResponse;
        reply.code(stored.status).header('idempotent-replayed', 'true');
        for (const name of REPLAYED_HEADERS) if (stored.headers[name]) reply.header(name, stored.headers[name]);
        return reply.send(stored.body);
      }
    }
  };

  const settle: onSendHookHandler = async (request, reply, payload) => {
    const held = request.idempotencyClaim;
    if (!held) return payload;
    request.idempotencyClaim = null;
    try {
      const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : payload == null ? '' : undefined;
      if (reply.statusCode >= 200 && reply.statusCode < 300 && body !== undefined) {
        const headers: StoredResponse['headers'] = {};
        for (const name of REPLAYED_HEADERS) {
          const value = reply.getHeader(name);
          if (typeof value === 'string') headers[name] = value;
        }
        const stored: StoredResponse = { status: reply.statusCode, headers, body };
        await completeIdempotencyKey(db, held, seal(held.key, JSON.stringify(stored), held.context));
      } else {
        // A failed first attempt is not remembered: the caller may fix the request and retry with the same key.
        await releaseIdempotencyKey(db, held);
      }
    } catch (error) {
      // The create itself has committed; the caller gets its answer. A duplicate is refused until the lease runs out.
      request.log.warn({ err: error }, 'could not record the idempotent response');
    }
    return payload;
  };

  app.addHook('onRoute', (route) => {
    if (!route.config?.idempotent) return;
    route.preHandler = withHook(route.preHandler, claim);
    route.onSend = withHook(route.onSend, settle);
  });

  const purge = () => purgeExpiredIdempotencyRecords(db).catch((error: unknown) => app.log.warn({ err: error }, 'could not purge expired idempotency records'));
  const timer = setInterval(purge, PURGE_EVERY_MS);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}

export default fp(idempotencyPlugin, { name: 'idempotency', fastify: '5.x', dependencies: ['auth'] });
