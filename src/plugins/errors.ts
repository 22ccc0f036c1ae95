import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DomainError, type FieldError, PROBLEMS, type ProblemCode, problemType } from '../errors.js';
import type { Tarpit } from '../lib/rate-limit.js';
import { isStoreDown } from '../store/errors.js';
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
    type: problemType(error.code),
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

/**
 * How a family of routes writes an error's body: problem+json here, Confluent's shape under
 * /iam/v2, Insights' under /clientcontroller and /informationservice. Status and headers are
 * already set from the catalogue; `thrown` is what the route threw (absent for unknown routes).
 */
export type ErrorShape = (reply: FastifyReply, request: FastifyRequest, error: DomainError, thrown?: unknown) => FastifyReply;

/** RFC 9457 problem+json, the native API's shape. */
const problemShape: ErrorShape = (reply, request, error) =>
  // Sent pre-serialized: the body is built here from the catalogue, so running it through the
  // route's response schema again only costs time (rate-limited floods are answered by this path).
  reply.type('application/problem+json').send(JSON.stringify(problemFor(error, request.id)));

/** Answers an error in any shape: the catalogue's status, the challenge on 401, Retry-After when the error has one. */
function sendError(reply: FastifyReply, request: FastifyRequest, error: DomainError, shape: ErrorShape, thrown?: unknown): FastifyReply {
  const { status } = PROBLEMS[error.code];
  if (status === 401) reply.header('www-authenticate', AUTHENTICATE_CHALLENGE);
  if (error.options.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.options.retryAfterSeconds));
  return shape(reply.code(status), request, error, thrown);
}

/** What every error handler does first: map to a problem, log server errors, hold back 429s. */
async function settleError(error: unknown, request: FastifyRequest, tarpit: Tarpit): Promise<DomainError> {
  const domainError = toDomainError(error);
  if (PROBLEMS[domainError.code].status >= 500) {
    request.log.error({ err: error, responseMismatch: error instanceof ResponseMismatchError }, 'request failed');
  }
  if (domainError.code === 'rate_limited') await tarpit.hold();
  return domainError;
}

/** The detail of a 404 for a path no route serves. */
export const noRouteDetail = (request: FastifyRequest) => `no route ${request.method} ${request.url.split('?')[0]}`;

/**
 * The one error handler, installed in every scope that has its own error shape: whatever a route
 * or hook throws is settled (mapped, logged, held back) and answered in `shape`, and so is an
 * unknown route under the scope, with `notFoundDetail`.
 */
export function handleErrors(scope: FastifyInstance, tarpit: Tarpit, shape: ErrorShape, notFoundDetail: (request: FastifyRequest) => string): void {
  scope.setErrorHandler(async (error, request, reply) => sendError(reply, request, await settleError(error, request, tarpit), shape, error));
  scope.setNotFoundHandler((request, reply) => sendError(reply, request, new DomainError('not_found', notFoundDetail(request)), shape));
}

/**
 * Fastify's `frameworkErrors`: bad URLs and over-long path segments, answered before any route or
 * hook runs, get the same problem+json as everything else.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendError(reply, request, toDomainError(error), problemShape);
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
  handleErrors(app, options.tarpit, problemShape, noRouteDetail);
}

export default fp(errorsPlugin, { name: 'errors', fastify: '5.x' });
