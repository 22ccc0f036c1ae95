/**
 * A typed Latchkey client: openapi-fetch over the types openapi-typescript generates from the
 * committed openapi/openapi.json (`npm run openapi` writes ./openapi.ts). The CLI is built on it,
 * and programs can use it the same way:
 *
 *   const latchkey = createLatchkeyClient({ url: 'http://127.0.0.1:8080', token: 'KEY:SECRET' });
 *   const { data, error } = await latchkey.GET('/v1/orgs/{org_id}/api-keys', { params: { path: { org_id } } });
 */
import { randomUUID } from 'node:crypto';
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './openapi.js';

export type { components, operations, paths } from './openapi.js';
export type LatchkeyClient = Client<paths>;

export interface LatchkeyClientOptions {
  /** Base URL of the service, e.g. http://127.0.0.1:8080. */
  url: string;
  /** A root token or access token (sent as Bearer), or a cloud key as KEY:SECRET (sent as Basic). */
  token?: string;
  /** Attempts for a request whose answer was lost (network error, 503); 1 disables retries. */
  attempts?: number;
  /** The fetch to send requests with (tests, proxies). */
  fetch?: typeof fetch;
}

/** Root tokens and JWTs never contain a colon; a cloud key is `KEY:SECRET`, as curl's -u takes it. */
export function authorizationFor(token: string): string {
  const colon = token.indexOf(':');
  if (colon > 0) return `Basic ${Buffer.from(token).toString('base64')}`;
  return `Bearer ${token}`;
}

/** A fresh Idempotency-Key for one create; retries of that create reuse it. */
export function newIdempotencyKey(): string {
  return `latchkey-cli-${randomUUID()}`;
}

const MAX_RETRY_DELAY_MS = 5_000;

function retryDelayMs(attempt: number, response?: Response): number {
  const retryAfter = Number(response?.headers.get('retry-after'));
  if (Number.isFinite(retryAfter) && retryAfter > 0) return Math.min(retryAfter * 1000, MAX_RETRY_DELAY_MS);
  return Math.min(250 * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
}

/**
 * Only requests that are safe to send twice are retried: reads, and creates carrying an
 * Idempotency-Key (the service replays the first answer instead of creating a second thing).
 * A DELETE or rotate is not retried: its second attempt would answer for a different state.
 */
function isRetryable(request: Request): boolean {
  return request.method === 'GET' || (request.method === 'POST' && request.headers.has('idempotency-key'));
}

function retryingFetch(send: typeof fetch, attempts: number): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    if (!isRetryable(request) || attempts <= 1) return send(request);
    const body = request.body ? await request.arrayBuffer() : undefined;
    for (let attempt = 1; ; attempt++) {
      const copy = new Request(request, body === undefined ? {} : { body });
      let response: Response | undefined;
      try {
        response = await send(copy);
        if (response.status !== 503 || attempt >= attempts) return response;
        await response.body?.cancel();
      } catch (error) {
        if (attempt >= attempts || (error as Error).name === 'AbortError') throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempt, response)));
    }
  };
}

export function createLatchkeyClient(options: LatchkeyClientOptions): LatchkeyClient {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = authorizationFor(options.token);
  return createClient<paths>({
    baseUrl: options.url.replace(/\/+$/, ''),
    headers,
    fetch: retryingFetch(options.fetch ?? globalThis.fetch, options.attempts ?? 3),
  });
}
