/**
 * The error catalogue: every problem code the service answers, with its HTTP status, its title,
 * when it happens and where it is documented. Services throw DomainError with a code from here;
 * the one error handler (plugins/errors.ts) answers it with this status and title, as RFC 9457
 * problem+json (`type` urn:latchkey:problem:<code>) or in a compatible API's own shape.
 * docs/errors.md has a section per code, anchored by the code itself (test/unit/errors.test.ts
 * keeps the two in step).
 */
const CATALOGUE = {
  bad_request: {
    status: 400,
    title: 'Bad request',
    when: 'the request cannot be read as asked: an empty JSON body, a request that is not valid HTTP, a missing required choice such as resource_id',
  },
  malformed_json: { status: 400, title: 'Malformed JSON body', when: 'the body is not valid JSON, or not valid UTF-8' },
  malformed_url: { status: 400, title: 'Malformed URL', when: 'the URL has a bad percent-encoding' },
  unauthorized: { status: 401, title: 'Authentication required', when: 'no credential, or a credential that is not valid, on a route that needs one' },
  forbidden: { status: 403, title: 'Not allowed', when: 'the credential is valid but its roles do not allow this action here' },
  not_found: { status: 404, title: 'Not found', when: 'the object does not exist or belongs to another organization, or no route matches' },
  method_not_allowed: { status: 405, title: 'Method not allowed', when: 'the route exists but does not support this method (PATCH of a cluster key)' },
  request_timeout: { status: 408, title: 'Request timeout', when: 'the request line, headers or body did not arrive in time' },
  conflict: {
    status: 409,
    title: 'Conflict',
    when: 'the object is not in a state that allows this change (a revoked key, a running grace period, a duplicate role binding, a concurrent change)',
  },
  name_taken: { status: 409, title: 'Name already in use', when: 'another object in the same scope already has this name' },
  not_empty: { status: 409, title: 'Not empty', when: 'deleting an organization or environment that still holds objects' },
  recently_used: { status: 409, title: 'Keys in recent use', when: 'deleting a principal whose API keys were used recently, without ?force=true' },
  quota_exceeded: { status: 409, title: 'Quota exceeded', when: 'creating an API key for an owner that already holds its quota of keys' },
  payload_too_large: { status: 413, title: 'Payload too large', when: 'the body is larger than the route accepts (1 MiB, 64 KiB on the kdb Insights routes)' },
  uri_too_long: { status: 414, title: 'URI too long', when: 'the URL is longer than 8,192 characters or a path segment is longer than 100' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', when: 'the body is not sent as application/json' },
  validation_failed: { status: 422, title: 'Invalid input', when: 'a field in the body, query or path is missing, unknown or invalid; errors names each one' },
  immutable_field: { status: 422, title: 'Field cannot be changed', when: 'an update names a field that is fixed once the object exists' },
  invalid_idempotency_key: { status: 422, title: 'Invalid Idempotency-Key', when: 'the Idempotency-Key header is not 16 to 255 visible ASCII characters' },
  idempotency_key_reused: {
    status: 422,
    title: 'Idempotency-Key used for another request',
    when: 'the Idempotency-Key was used by this caller for a different request',
  },
  idempotency_key_in_flight: {
    status: 409,
    title: 'Request with this Idempotency-Key in progress',
    when: 'the first request with this Idempotency-Key is still running',
  },
  rate_limited: {
    status: 429,
    title: 'Too many requests',
    when: 'too many failed authentications, failed verifications or unknown client ids from this caller or address',
  },
  headers_too_large: {
    status: 431,
    title: 'Request header fields too large',
    when: 'the request line and headers are larger than the server accepts (16 KiB)',
  },
  internal: { status: 500, title: 'Internal server error', when: 'an unexpected error; the request id identifies it in the logs' },
  store_unavailable: { status: 503, title: 'Store unavailable', when: 'the database is unreachable or too slow' },
  overloaded: { status: 503, title: 'Overloaded', when: 'more argon2 hashings (secret checks and new secrets) are waiting than the configured queue holds' },
} as const satisfies Record<string, { status: number; title: string; when: string }>;

export type ProblemCode = keyof typeof CATALOGUE;

interface ProblemEntry {
  status: number;
  title: string;
  /** One line: when the service answers this code. */
  when: string;
  /** Where the code is documented: its section in docs/errors.md, anchored by the code. */
  docs: string;
}

export const PROBLEMS = Object.fromEntries(Object.entries(CATALOGUE).map(([code, entry]) => [code, { ...entry, docs: `docs/errors.md#${code}` }])) as Record<
  ProblemCode,
  ProblemEntry
>;

/** A problem's `type`: the URN's last part is the code, which is also its anchor in docs/errors.md. */
export const problemType = (code: ProblemCode) => `urn:latchkey:problem:${code}`;

export interface FieldError {
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: ProblemCode,
    readonly detail: string,
    readonly options: { errors?: FieldError[]; retryAfterSeconds?: number; extra?: Record<string, unknown> } = {},
  ) {
    super(detail);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, id: string) => new DomainError('not_found', `${what} ${id} does not exist`);

export const invalidField = (path: string, message: string) => new DomainError('validation_failed', `${path} ${message}`, { errors: [{ path, message }] });

export class OverloadedError extends DomainError {
  constructor() {
    super('overloaded', 'too many verifications are being computed; retry shortly', { retryAfterSeconds: 1 });
  }
}
