/**
 * The one table of problem codes. Services throw DomainError with a code from here; the errors
 * plugin turns it into RFC 9457 problem+json with this status and title.
 */
export const PROBLEMS = {
  bad_request: { status: 400, title: 'Bad request' },
  malformed_json: { status: 400, title: 'Malformed JSON body' },
  malformed_url: { status: 400, title: 'Malformed URL' },
  unauthorized: { status: 401, title: 'Authentication required' },
  forbidden: { status: 403, title: 'Not allowed' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  request_timeout: { status: 408, title: 'Request timeout' },
  conflict: { status: 409, title: 'Conflict' },
  name_taken: { status: 409, title: 'Name already in use' },
  not_empty: { status: 409, title: 'Not empty' },
  recently_used: { status: 409, title: 'Keys in recent use' },
  quota_exceeded: { status: 409, title: 'Quota exceeded' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  uri_too_long: { status: 414, title: 'URI too long' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  validation_failed: { status: 422, title: 'Invalid input' },
  immutable_field: { status: 422, title: 'Field cannot be changed' },
  invalid_idempotency_key: { status: 422, title: 'Invalid Idempotency-Key' },
  idempotency_key_reused: { status: 422, title: 'Idempotency-Key used for another request' },
  idempotency_key_in_flight: { status: 409, title: 'Request with this Idempotency-Key in progress' },
  rate_limited: { status: 429, title: 'Too many requests' },
  headers_too_large: { status: 431, title: 'Request header fields too large' },
  internal: { status: 500, title: 'Internal server error' },
  store_unavailable: { status: 503, title: 'Store unavailable' },
  overloaded: { status: 503, title: 'Overloaded' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

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

export const invalidField = (path: string, message: string) =>
  new DomainError('validation_failed', `${path} ${message}`, { errors: [{ path, message }] });

export class OverloadedError extends DomainError {
  constructor() {
    super('overloaded', 'too many verifications are being computed; retry shortly', { retryAfterSeconds: 1 });
  }
}
