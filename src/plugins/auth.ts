import type { FastifyContextConfig, FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { Actor } from '../auth/actor.js';
import { DomainError } from '../errors.js';
import type { FailureLimiter } from '../lib/rate-limit.js';
import type { CredentialKind } from '../store/invalidation.js';

/**
 * public: no credential; root: the root token only; management: root or a principal acting
 * through a cloud API key or an access token. A route without `auth` is a management route:
 * public routes opt out explicitly.
 */
export type AuthMode = 'public' | 'root' | 'management';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthMode;
    /** A verification route: the credential family its answers count under (metrics). */
    verifyKind?: CredentialKind;
    /** A route that creates something: an Idempotency-Key header makes a retry safe. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyInstance {
    /** Every route with the auth mode it ends up with (HEAD twins excluded): what the security suite walks. */
    readonly routeTable: ReadonlyArray<{ method: string; url: string; auth: AuthMode }>;
  }
}

/** One way of presenting a credential. New schemes are added by handing the plugin another one. */
export interface Authenticator {
  scheme: 'bearer' | 'basic';
  /** Whether this authenticator recognises the credential (the part after the scheme). */
  accepts(credential: string): boolean;
  /**
   * The actor, or null when the credential is not valid. `throttled`: the client address is over its
   * failure limit; answer credentials known to be good, but spend no argon2 work on unknown ones.
   */
  authenticate(credential: string, request: FastifyRequest, throttled: boolean): Promise<Actor | null>;
}

export interface AuthPluginOptions {
  authenticators: Authenticator[];
  failures: FailureLimiter;
}

const unauthorized = (detail: string) => new DomainError('unauthorized', detail);

async function authPlugin(app: FastifyInstance, options: AuthPluginOptions) {
  app.decorateRequest('actor', null);

  // The route objects themselves are kept: hooks registered later (swagger marks /docs public)
  // still change their config, so the mode is read when the table is read.
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    routes.push(route);
    // A route-level hook: public routes, and requests no route matched (the 404 handler), never run it.
    // The mode is still read per request: a later onRoute hook may mark a route public (swagger's /docs).
    if (route.config?.auth === 'public') return;
    route.onRequest = [authenticate, ...(route.onRequest ? [route.onRequest].flat() : [])];
  });
  app.decorate('routeTable', {
    getter: () =>
      routes.flatMap((route) =>
        (Array.isArray(route.method) ? route.method : [route.method])
          .filter((method) => method !== 'HEAD')
          .map((method) => ({ method, url: route.url, auth: (route.config as FastifyContextConfig | undefined)?.auth ?? 'management' })),
      ),
  });

  async function authenticate(request: FastifyRequest): Promise<void> {
    // Default-closed: a route that does not say otherwise needs a management credential.
    const mode = request.routeOptions.config.auth ?? 'management';
    if (mode === 'public') return;

    // The limit slows down failures only: a correct credential from a throttled address gets through.
    const retryAfterSeconds = options.failures.retryAfter(request.ip);
    const throttled = retryAfterSeconds > 0;
    const rateLimited = () => new DomainError('rate_limited', 'too many failed authentication attempts from this address', { retryAfterSeconds });

    const header = request.headers.authorization;
    if (!header) throw throttled ? rateLimited() : unauthorized('send a root token or access token as Bearer, or a cloud API key as Basic');
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const credential = header.slice(space + 1).trim();
    const authenticator = options.authenticators.find((a) => a.scheme === scheme && a.accepts(credential));
    const actor = space > 0 && authenticator ? await authenticator.authenticate(credential, request, throttled) : null;
    if (!actor) {
      if (throttled) throw rateLimited();
      options.failures.recordFailure(request.ip);
      throw unauthorized('the credential is not valid');
    }
    if (mode === 'root' && actor.kind !== 'root') {
      throw new DomainError('forbidden', 'only the root token may do this');
    }
    request.actor = actor;
  }
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['errors'] });

/** The actor of an authenticated route; the auth hook guarantees it is set. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw unauthorized('authentication required');
  return request.actor;
}
