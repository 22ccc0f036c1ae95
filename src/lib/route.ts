import type {
  ContextConfigDefault,
  FastifyInstance,
  FastifySchema,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
  RouteHandlerMethod,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import type { RouteAuth } from '../plugins/auth.js';
import type { CredentialKind } from '../store/invalidation.js';

type Schema = z.ZodType | undefined;

/** What a route is: everything the OpenAPI document, the auth plugin and the handler need, once. */
export interface RouteSpec<P extends Schema, Q extends Schema, B extends Schema, R extends Record<number, z.ZodType>> {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  operationId: string;
  summary: string;
  /** `public`, `root`, or the action the route performs (the service authorizes it on the loaded target). */
  auth: RouteAuth;
  /** A create: an Idempotency-Key header makes a retry safe. */
  idempotent?: boolean;
  /** A verification route: the credential family its answers count under (metrics). */
  verifyKind?: CredentialKind;
  /** The batch verification route: its answers count per item, each under the item's kind (metrics). */
  verifyBatch?: boolean;
  /** The module's tags unless given. */
  tags?: string[];
  /** OpenAPI security requirements, when they differ from the document's default. */
  security?: Array<Record<string, string[]>>;
  produces?: string[];
  consumes?: string[];
  /** Hand validation errors to the handler instead of answering them (OAuth's own error shape). */
  attachValidation?: boolean;
  params?: P;
  querystring?: Q;
  body?: B;
  response: R;
  handler: RouteHandlerMethod<
    RawServerDefault,
    RawRequestDefaultExpression,
    RawReplyDefaultExpression,
    RouteGenericInterface,
    ContextConfigDefault,
    { params: P; querystring: Q; body: B; response: R },
    ZodTypeProvider
  >;
}

/** What every route of a module shares: its tags, and (compatible APIs) security and error responses. */
export interface ModuleDefaults {
  tags: string[];
  security?: Array<Record<string, string[]>>;
  /** Error responses added to every route's response schemas. */
  errors?: Record<number, z.ZodType>;
}

/**
 * Declares the routes of a module. Fastify's route options spread one route over a config object,
 * a schema object and the handler; this keeps each route to its own facts.
 */
export function routesOf(app: FastifyInstance, defaults: ModuleDefaults) {
  return function route<
    P extends Schema = undefined,
    Q extends Schema = undefined,
    B extends Schema = undefined,
    R extends Record<number, z.ZodType> = Record<number, z.ZodType>,
  >(spec: RouteSpec<P, Q, B, R>): void {
    const security = spec.security ?? defaults.security;
    const schema: FastifySchema = {
      operationId: spec.operationId,
      tags: spec.tags ?? defaults.tags,
      ...(security ? { security } : {}),
      summary: spec.summary,
      ...(spec.consumes ? { consumes: spec.consumes } : {}),
      ...(spec.produces ? { produces: spec.produces } : {}),
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.querystring ? { querystring: spec.querystring } : {}),
      ...(spec.body ? { body: spec.body } : {}),
      response: { ...defaults.errors, ...spec.response },
    };
    app.route({
      method: spec.method,
      url: spec.url,
      config: {
        auth: spec.auth,
        ...(spec.idempotent ? { idempotent: true } : {}),
        ...(spec.verifyKind ? { verifyKind: spec.verifyKind } : {}),
        ...(spec.verifyBatch ? { verifyBatch: true } : {}),
      },
      ...(spec.attachValidation ? { attachValidation: true } : {}),
      schema,
      // RouteSpec typed the handler against the zod schemas; Fastify's route() sees the schema
      // only as a FastifySchema, so it gets the handler under its general type.
      handler: spec.handler as RouteHandlerMethod,
    });
  };
}

/**
 * A route's hooks of one kind (`route.onRequest`, `route.preHandler`…, as an onRoute hook sees
 * them) with `hook` added first or last: how plugins attach a hook to the routes that need it
 * instead of running it on every request.
 */
export function withHook<T>(existing: T | T[] | undefined, hook: T, at: 'first' | 'last' = 'last'): T[] {
  const hooks = existing === undefined ? [] : Array.isArray(existing) ? existing : [existing];
  return at === 'first' ? [hook, ...hooks] : [...hooks, hook];
}
