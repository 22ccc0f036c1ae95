import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError, type FieldError, PROBLEMS, type ProblemCode } from '../errors.js';
import type { Tarpit } from '../lib/rate-limit.js';
import { requestIdFrom } from './security.js';
import { ResponseMismatchError } from './serializer.js';

export const AUTHENTICATE_CHALLENGE = 'Bearer realm="latchkey", Basic realm="latchkey"';

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  request_id: string;
  errors?: FieldError[];
  [extra: string]: unknown;
}

function problemFor(error: DomainError, requestId: string): Problem {
  const { status, title } = PROBLEMS[error.code];
  return {
    type: `urn:latchkey:problem:${error.code}`,
    title,
    status,
    detail: error.detail,
    code: error.code,
    request_id: requestId,
    ...(error.options.errors ? { errors: error.options.errors } : {}),
    ...error.options.extra,
  };
}

/** Maps anything thrown during a request to a DomainError; unknown errors become `internal`. */
export function toDomainError(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) return validationProblem(error);
  const fastifyError = error as Partial<FastifyError> & { code?: string; statusCode?: number };
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new DomainError('unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new DomainError('payload_too_large', 'the body is larger than the 1 MiB limit');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new DomainError('bad_request', 'the body is empty although Content-Type is application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new DomainError('malformed_json', 'the body is not valid JSON');
    case 'FST_ERR_BAD_URL':
      return new DomainError('malformed_url', 'the URL is not valid: check its percent-encoding');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new DomainError('uri_too_long', 'a path segment of the URL is longer than any id Latchkey issues');
  }
  if (error instanceof SyntaxError && fastifyError.statusCode === 400) {
    return new DomainError('malformed_json', 'the body is not valid JSON');
  }
  if (isStoreDown(error)) {
    return new DomainError('store_unavailable', 'the database is unreachable; retry shortly', { retryAfterSeconds: 2 });
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new DomainError(fastifyError.statusCode === 413 ? 'payload_too_large' : 'bad_request', fastifyError.message ?? 'bad request');
  }
  return new DomainError('internal', 'an unexpected error occurred; the request id identifies it in the logs');
}

function validationProblem(error: { validation: unknown[]; validationContext?: string }): DomainError {
  const where = error.validationContext ?? 'body';
  const errors: FieldError[] = [];
  for (const item of error.validation as Array<{ instancePath: string; message: string; keyword: string; params: { keys?: string[] } }>) {
    const base = item.instancePath.slice(1).split('/').filter(Boolean).join('.');
    if (item.keyword === 'unrecognized_keys' && item.params.keys) {
      for (const key of item.params.keys) errors.push({ path: base ? `${base}.${key}` : key, message: 'is not a known field' });
    } else {
      errors.push({ path: base || where, message: item.message });
    }
  }
  const summary = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
  return new DomainError('validation_failed', `invalid ${where}: ${summary}`, { errors });
}

// Connection refused/reset/timed out, the server shutting down or terminating us (57P01-57P03),
// connection failures (08xxx), a statement cancelled by statement_timeout (57014), too many
// connections, and Prisma's "can't reach / timed out / connection closed / transaction could not start".
const STORE_DOWN_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH',
  '57P01', '57P02', '57P03', '57014', '08000', '08001', '08003', '08006', '53300',
  'P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028',
]);
const STORE_DOWN_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const STORE_DOWN_MESSAGE =
  /Connection terminated|connection timeout|Can't reach database|timeout exceeded when trying to connect|Query read timeout|terminating connection|Client has encountered a connection error|Unable to start a transaction|Server has closed the connection|canceling statement due to statement timeout/i;

/** The database is unreachable, gone, or too slow: a 503 the client may retry, never a 500. */
export function isStoreDown(error: unknown): boolean {
  for (let e = error as { code?: unknown; kind?: unknown; originalCode?: unknown; cause?: unknown; message?: unknown } | undefined, depth = 0; e && depth < 6; depth++) {
    if (typeof e.code === 'string' && STORE_DOWN_CODES.has(e.code)) return true;
    if (typeof e.originalCode === 'string' && STORE_DOWN_CODES.has(e.originalCode)) return true;
    if (typeof e.kind === 'string' && STORE_DOWN_KINDS.has(e.kind)) return true;
    if (typeof e.message === 'string' && STORE_DOWN_MESSAGE.test(e.message)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

function sendProblem(reply: FastifyReply, request: FastifyRequest, error: DomainError): FastifyReply {
  const problem = problemFor(error, request.id);
  if (problem.status === 401) reply.header('www-authenticate', AUTHENTICATE_CHALLENGE);
  if (error.options.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.options.retryAfterSeconds));
  // Sent pre-serialized: the body is built here from the code table, so running it through the
  // route's response schema again only costs time (rate-limited floods are answered by this path).
  return reply.code(problem.status).type('application/problem+json').send(JSON.stringify(problem));
}

/** What every error handler does first: map to a problem, log server errors, hold back 429s. */
export async function settleError(error: unknown, request: FastifyRequest, tarpit: Tarpit): Promise<DomainError> {
  const domainError = toDomainError(error);
  if (PROBLEMS[domainError.code].status >= 500) {
    request.log.error({ err: error, responseMismatch: error instanceof ResponseMismatchError }, 'request failed');
  }
  if (domainError.code === 'rate_limited') await tarpit.hold();
  return domainError;
}

/**
 * Fastify's `frameworkErrors`: bad URLs and over-long path segments, answered before any route or
 * hook runs, get the same problem+json as everything else.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendProblem(reply, request, toDomainError(error));
}

const CLIENT_ERRORS: Record<string, DomainError> = {
  HPE_HEADER_OVERFLOW: new DomainError('headers_too_large', 'the request line and headers are larger than the server accepts'),
  ERR_HTTP_REQUEST_TIMEOUT: new DomainError('request_timeout', 'the request was not received in time'),
};

/**
 * Node's `clientError` (Fastify's `clientErrorHandler`): requests HTTP cannot even parse, answered
 * on the raw socket as problem+json. Fastify's default logged the error with its raw bytes
 * (`rawPacket`, Authorization header included) at trace level; only the error code is logged here.
 */
export function clientErrorHandler(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const problem = CLIENT_ERRORS[error.code ?? ''] ?? new DomainError('bad_request', 'the request is not valid HTTP');
  const requestId = requestIdFrom(undefined);
  this.log.debug({ client_error: error.code ?? 'unknown', request_id: requestId }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify(problemFor(problem, requestId));
    const { status } = PROBLEMS[problem.code];
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

interface ErrorsPluginOptions {
  /** Where 429 answers wait before they are sent. */
  tarpit: Tarpit;
}

async function errorsPlugin(app: FastifyInstance, options: ErrorsPluginOptions) {
  app.setErrorHandler(async (error, request, reply) => sendProblem(reply, request, await settleError(error, request, options.tarpit)));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, request, new DomainError('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
}

export default fp(errorsPlugin, { name: 'errors', fastify: '5.x' });
