import type { FastifyContextConfig, FastifyInstance, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { Actor } from '../auth/actor.js';
import type { Authenticator } from '../auth/authenticator.js';
import { assertInOrg } from '../auth/policy.js';
import type { Action } from '../auth/roles.js';
import { DomainError } from '../errors.js';
import { andThen, type Eventually } from '../lib/eventually.js';
import type { FailureLimiter } from '../lib/rate-limit.js';
import { withHook } from '../lib/route.js';
import type { CredentialKind } from '../store/invalidation.js';

/**
 * public: no credential; root: the root token only; management: root or a principal acting
 * through a cloud API key or an access token. A route without `auth` is a management route:
 * public routes opt out explicitly.
 */
export type AuthMode = 'public' | 'root' | 'management';

/**
 * What a route declares: `public`, `root`, or the action it performs, which makes it a management
 * route. The service authorizes that action (authorize in auth/policy.ts) on the target it loads.
 */
export type RouteAuth = 'public' | 'root' | Action;

export const modeOf = (auth: RouteAuth | undefined): AuthMode => (auth === 'public' || auth === 'root' ? auth : 'management');

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /** A verification route: the credential family its answers count under (metrics). */
    verifyKind?: CredentialKind;
    /** The batch verification route: each answer in `results` counts under its item's `kind` (metrics). */
    verifyBatch?: boolean;
    /** A route that creates something: an Idempotency-Key header makes a retry safe. */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyInstance {
    /**
     * Every route with the auth mode it ends up with and the action it declares (HEAD twins
     * excluded): what the security suite walks.
     */
    readonly routeTable: ReadonlyArray<{ method: string; url: string; auth: AuthMode; action: Action | undefined }>;
  }
}

interface AuthPluginOptions {
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
    // The mode is still read per request, from the route object: a later onRoute hook may mark a
    // route public (swagger's /docs). (request.routeOptions builds a frozen copy on every read.)
    if (route.config?.auth === 'public') return;
    const authenticate: onRequestHookHandler = (request, _reply, done) => {
      let outcome: Eventually<void>;
      try {
        outcome = establishActor(request, modeOf(route.config?.auth));
      } catch (error) {
        done(error as Error);
        return;
      }
      if (outcome instanceof Promise) outcome.then(() => done(), done);
      else done();
    };
    route.onRequest = withHook(route.onRequest, authenticate, 'first');
    if (route.url.includes(':org_id')) route.preHandler = withHook(route.preHandler, assertTenant, 'first');
  });
  app.decorate('routeTable', {
    getter: () =>
      routes.flatMap((route) =>
        (Array.isArray(route.method) ? route.method : [route.method])
          .filter((method) => method !== 'HEAD')
          .map((method) => {
            const auth = (route.config as FastifyContextConfig | undefined)?.auth;
            const mode = modeOf(auth);
            return { method, url: route.url, auth: mode, action: mode === 'management' ? (auth as Action | undefined) : undefined };
          }),
      ),
  });

  /**
   * The caller of a route in `mode`, on request.actor. Synchronous for a credential the caches
   * know (a Verifier's cloud key on every verification): no promise on the hot path.
   */
  function establishActor(request: FastifyRequest, mode: AuthMode): Eventually<void> {
    // Default-closed: a route that does not say otherwise needs a management credential.
    if (mode === 'public') return;

    // The limit slows down failures only: a correct credential from a throttled address gets through.
    // The client address (a getter that consults the proxy settings) is read only once someone has failed.
    const retryAfterSeconds = options.failures.empty ? 0 : options.failures.retryAfter(request.ip);
    const throttled = retryAfterSeconds > 0;
    const rateLimited = () => new DomainError('rate_limited', 'too many failed authentication attempts from this address', { retryAfterSeconds });

    const header = request.headers.authorization;
    if (!header) throw throttled ? rateLimited() : unauthorized('send a root token or access token as Bearer, or a cloud API key as Basic');
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const credential = header.slice(space + 1).trim();
    const authenticator = space > 0 ? authenticatorFor(scheme, credential) : undefined;
    const actor = authenticator ? authenticator.authenticate(credential, request, throttled) : null;
    return andThen(actor, (found) => {
      if (!found) {
        if (throttled) throw rateLimited();
        options.failures.recordFailure(request.ip);
        throw unauthorized('the credential is not valid');
      }
      if (mode === 'root' && found.kind !== 'root') {
        throw new DomainError('forbidden', 'only the root token may do this');
      }
      request.actor = found;
    });
  }

  function authenticatorFor(scheme: string, credential: string): Authenticator | undefined {
    for (const authenticator of options.authenticators) if (authenticator.scheme === scheme && authenticator.accepts(credential)) return authenticator;
    return undefined;
  }

  // Tenancy, after validation as before: another organization's :org_id does not exist for this
  // actor (404, never 403), whatever the route then authorizes.
  async function assertTenant(request: FastifyRequest): Promise<void> {
    const orgId = (request.params as { org_id?: unknown } | undefined)?.org_id;
    if (request.actor && typeof orgId === 'string') assertInOrg(request.actor, orgId);
  }
}

export default fp(authPlugin, { name: 'auth', fastify: '5.x', dependencies: ['errors'] });

/** The actor of an authenticated route; the auth hook guarantees it is set. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw unauthorized('authentication required');
  return request.actor;
}
