/**
 * The shared security suite: generated from the route table and the OpenAPI document, it runs the
 * same checks on every route, so a route added later is covered without writing a test for it:
 *   (a) no credential (and a bad one) → 401;
 *   (b) another organization's admin → 404 for this organization's objects;
 *   (c) a principal of the organization whose role grants nothing here → 403;
 *   (d) a fixed corpus of bad values in every body field, path and query parameter → 4xx in the
 *       route family's error shape, naming the field, and not one row changed.
 * What it cannot derive (real ids for path parameters, a valid body to spoil, the routes that are
 * public or answer in another error shape) is declared in fixtures.ts and the tables below; a
 * route the tables do not cover fails with a message that names the entry to add.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { FailureLimiter, Tarpit } from '../../src/lib/rate-limit.js';
import authPlugin from '../../src/plugins/auth.js';
import errorsPlugin from '../../src/plugins/errors.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { BODIES, countRows, createFixture, type Fixture, pathParamValue, QUERY_PARAMS } from './fixtures.js';

// ---------------------------------------------------------------------------------------------
// Declared tables
// ---------------------------------------------------------------------------------------------

/** Routes anyone may call. `prefix*` matches a subtree. Every other route must answer 401 without a credential. */
const PUBLIC_ROUTES: Record<string, string> = {
  'GET /healthz': 'liveness probe',
  'GET /readyz': 'readiness probe',
  'GET /openapi.json': 'the API description',
  'GET /docs*': 'Swagger UI',
  'POST /oauth2/token': 'authenticates by its body (client credentials)',
  'GET /v1/orgs/:org_id/.well-known/jwks.json': 'public keys brokers verify cluster keys with (API.md)',
  'GET /v1/orgs/:org_id/cluster-keys/public-key.pem': 'the active public key for Pulsar (API.md)',
  'GET /v1/orgs/:org_id/.well-known/openid-configuration': 'OpenID discovery for cluster keys (API.md)',
  'GET /v1/orgs/:org_id/resources/:resource_id/ca.pem': "a kdb Insights deployment's CA certificate (API.md)",
  'GET /v1/orgs/:org_id/resources/:resource_id/crl.pem': "a kdb Insights deployment's CRL (API.md)",
  'GET /informationservice/details/:client_id': 'the client id in the path is the credential (API.md)',
};

interface Family {
  name: string;
  /** Whether the answer is an error in this family's shape with this status. */
  isError(res: LightMyRequestResponse): boolean;
  /** The fields a 422 names, to check that the field is named. */
  fieldsNamed(res: LightMyRequestResponse): string[];
  /** Who sends the fuzz corpus: a caller allowed to use the route, so that only the bad value can fail it. */
  fuzzCaller(t: TestApp, fx: Fixture): Record<string, string>;
  /** The family reads bodies as JSON whatever the Content-Type (its contract), so a text/plain body is no fault. */
  bodyWhateverContentType?: boolean;
}

const json = (res: LightMyRequestResponse): any => {
  try {
    return res.json();
  } catch {
    return undefined;
  }
};

const problemFamily: Family = {
  name: 'problem+json (RFC 9457)',
  isError: (res) => {
    const body = json(res);
    return (
      /^application\/problem\+json/.test(String(res.headers['content-type'])) &&
      body?.status === res.statusCode &&
      typeof body.code === 'string' &&
      typeof body.request_id === 'string'
    );
  },
  fieldsNamed: (res) => (json(res)?.errors ?? []).map((e: { path: string }) => e.path),
  fuzzCaller: (t) => t.root,
};

/** kdb Insights' compatible routes: `{"message":"failure","detail"}`; bodies are JSON whatever their Content-Type (`curl -d`, API.md). */
const insightsFamily: Family = {
  name: 'kdb Insights ({"message":"failure","detail"})',
  isError: (res) => {
    const body = json(res);
    return /^application\/json/.test(String(res.headers['content-type'])) && body?.message === 'failure' && typeof body.detail === 'string';
  },
  fieldsNamed: () => [],
  fuzzCaller: (t) => t.root,
  bodyWhateverContentType: true,
};

/**
 * Route families that answer errors in another shape, by path prefix. Declared, not guessed: a
 * new family is one entry here.
 */
const FAMILIES: Array<{ prefix: string; family: Family }> = [
  {
    prefix: '/iam/v2/',
    family: {
      name: "Confluent's error shape ({errors:[{status,code,detail,source}]})",
      isError: (res) => {
        const body = json(res);
        return (
          /^application\/json/.test(String(res.headers['content-type'])) &&
          Array.isArray(body?.errors) &&
          body.errors.length > 0 &&
          body.errors.every((e: { status: string }) => e.status === String(res.statusCode))
        );
      },
      fieldsNamed: (res) =>
        (json(res)?.errors ?? []).map(
          (e: { source?: { pointer?: string; parameter?: string } }) => e.source?.parameter ?? e.source?.pointer?.slice(1).split('/').join('.') ?? '',
        ),
      // /iam/v2 acts in the caller's organization, which the root token lacks.
      fuzzCaller: (_t, fx) => ({ authorization: fx.admin.authorization }),
    },
  },
  {
    prefix: '/oauth2/token',
    family: {
      name: 'RFC 6749 §5.2 ({error,error_description}); problem+json for bodies refused before the route',
      isError: (res) => problemFamily.isError(res) || (typeof json(res)?.error === 'string' && [400, 401].includes(res.statusCode)),
      fieldsNamed: (res) => problemFamily.fieldsNamed(res),
      fuzzCaller: () => ({}),
    },
  },
  {
    prefix: '/clientcontroller/',
    family: insightsFamily,
  },
  {
    prefix: '/informationservice/',
    family: insightsFamily,
  },
];

/**
 * URLs Fastify refuses before routing (bad percent-encoding, an over-long segment) reach no route
 * family's handler: every family answers those as problem+json.
 */
const BEFORE_ROUTING = new Set(['malformed_url', 'uri_too_long']);

const familyOf = (url: string): Family => {
  const family = FAMILIES.find((f) => url.startsWith(f.prefix))?.family;
  if (!family) return problemFamily;
  return { ...family, isError: (res) => family.isError(res) || (problemFamily.isError(res) && BEFORE_ROUTING.has(json(res).code)) };
};

/**
 * (b) for routes whose path names no object of the organization: what another tenant's admin
 * gets instead of 404. Any 2xx body is also checked to hold none of the fixture's ids.
 */
const NOT_TENANT_ADDRESSED: Record<string, { status: number; why: string }> = {
  'GET /v1/orgs': { status: 200, why: 'lists the caller’s own organization only' },
  'POST /v1/orgs': { status: 403, why: 'root only' },
  'GET /v1/flink-regions': { status: 200, why: 'the service’s region catalogue, no tenant data' },
  'POST /v1/verify/api-key': { status: 403, why: 'the caller is no Verifier of its own organization (its own role, nothing of another tenant)' },
  'GET /iam/v2/api-keys': { status: 200, why: 'lists the caller’s organization' },
  'POST /iam/v2/api-keys': { status: 422, why: 'the owner named in the body is no principal of the caller’s organization (spec.owner.id)' },
  'GET /iam/v2/service-accounts': { status: 200, why: 'lists the caller’s organization' },
  'POST /iam/v2/service-accounts': { status: 201, why: 'creates in the caller’s organization; names nothing of another' },
  'POST /v1/verify/cluster-key': { status: 200, why: 'a token of another organization answers 200 INVALID, never 403 (API.md)' },
  'POST /v1/verify/access-key': {
    status: 403,
    why: 'the caller is no Verifier of its own organization (its own role, as /v1/verify/api-key); a Verifier of another organization gets 200 INVALID (test below)',
  },
  'POST /v1/verify/batch': {
    status: 403,
    why: 'the caller is no Verifier of its own organization, checked before any item (as /v1/verify/api-key); a Verifier of another organization gets 200 INVALID per item (test below)',
  },
  'POST /clientcontroller/enrol': { status: 404, why: 'names this organization’s deployment by ?resource_id (QUERY_PARAMS): not another tenant’s to address' },
  'POST /clientcontroller/leave': { status: 404, why: 'names this organization’s deployment by ?resource_id (QUERY_PARAMS): not another tenant’s to address' },
};

/**
 * (c) what a principal of the organization with only the Verifier role gets where it is not 403:
 * WEAK_EXPECTED names another refusal, OPEN_TO_MEMBERS a route its policy grants every member (or
 * that is its purpose). Every other route must answer it 403.
 */
const WEAK_EXPECTED: Record<string, { status: number; why: string }> = {
  'GET /v1/orgs/:org_id/api-keys': { status: 200, why: 'lists what the caller may see (issue 9 item 17 narrows directory reads)' },
  'GET /v1/orgs/:org_id/api-keys/:key_id': { status: 404, why: 'a key the caller may not manage does not exist for it' },
  'PATCH /v1/orgs/:org_id/api-keys/:key_id': { status: 404, why: 'a key the caller may not manage does not exist for it' },
  'DELETE /v1/orgs/:org_id/api-keys/:key_id': { status: 404, why: 'a key the caller may not manage does not exist for it' },
  'POST /v1/orgs/:org_id/api-keys/:key_id/rotate': { status: 404, why: 'a key the caller may not manage does not exist for it' },
  'GET /iam/v2/api-keys': { status: 200, why: 'lists what the caller may see (issue 9 item 17 narrows directory reads)' },
  'GET /iam/v2/api-keys/:id': { status: 404, why: 'a key the caller may not manage does not exist for it' },
  'PATCH /iam/v2/api-keys/:id': { status: 404, why: 'a key the caller may not manage does not exist for it' },
  'DELETE /iam/v2/api-keys/:id': { status: 404, why: 'a key the caller may not manage does not exist for it' },
  'GET /v1/orgs/:org_id/cluster-keys': { status: 200, why: 'lists what the caller may manage (none), as API keys' },
  'GET /v1/orgs/:org_id/cluster-keys/:key_id': { status: 404, why: 'a key the caller may not manage does not exist for it' },
  'PATCH /v1/orgs/:org_id/cluster-keys/:key_id': { status: 404, why: 'a key the caller may not manage does not exist for it' },
  'DELETE /v1/orgs/:org_id/cluster-keys/:key_id': { status: 404, why: 'a key the caller may not manage does not exist for it' },
  'POST /v1/orgs/:org_id/cluster-keys/:key_id/revoke': { status: 404, why: 'a key the caller may not manage does not exist for it' },
};

// Directory reads (users, service accounts, role bindings, on /v1 and /iam/v2) need a Confluent role
// since issue 9 item 17: a Verifier-only principal gets 403 there, so they are in neither table.
const OPEN_TO_MEMBERS: Record<string, string> = {
  'GET /v1/orgs': 'lists the caller’s own organization',
  'GET /v1/orgs/:org_id': 'org.read is member',
  'GET /v1/orgs/:org_id/environments': 'environment.read is member',
  'GET /v1/orgs/:org_id/environments/:env_id': 'environment.read is member',
  'GET /v1/orgs/:org_id/resources': 'resource.read is member',
  'GET /v1/orgs/:org_id/resources/:resource_id': 'resource.read is member',
  'GET /v1/flink-regions': 'the region catalogue',
  'POST /v1/verify/api-key': 'the Verifier’s purpose',
  'POST /v1/verify/cluster-key': 'the Verifier’s purpose',
  'POST /v1/verify/access-key': 'the Verifier’s purpose',
  'POST /v1/verify/batch': 'the Verifier’s purpose',
  'GET /v1/orgs/:org_id/cluster-keys/revocations': 'the revocation feed is for brokers and gateways: Verifier or admin (API.md)',
};

// ---------------------------------------------------------------------------------------------
// The route table, joined with the OpenAPI document
// ---------------------------------------------------------------------------------------------

interface SchemaObject {
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: SchemaObject[];
  oneOf?: SchemaObject[];
  allOf?: SchemaObject[];
  properties?: Record<string, SchemaObject>;
  items?: SchemaObject;
  $ref?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

interface Operation {
  operationId: string;
  parameters?: Array<{ in: 'path' | 'query'; name: string; schema: SchemaObject }>;
  requestBody?: { content: Record<string, { schema: SchemaObject }> };
}

interface Route {
  method: string;
  url: string;
  key: string;
  auth: 'public' | 'root' | 'management';
  /** The action a management route declares it performs (config.auth). */
  action: string | undefined;
  operation: Operation | undefined;
  pathParams: string[];
  family: Family;
}

const isPublicListed = (key: string) => Object.keys(PUBLIC_ROUTES).some((entry) => (entry.endsWith('*') ? key.startsWith(entry.slice(0, -1)) : key === entry));

function routesOf(t: TestApp): Route[] {
  const doc = t.app.swagger() as unknown as { paths: Record<string, Record<string, Operation>> };
  return t.app.routeTable.map(({ method, url, auth, action }) => {
    const openApiPath = url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    return {
      method,
      url,
      key: `${method} ${url}`,
      auth,
      action,
      operation: doc.paths[openApiPath]?.[method.toLowerCase()],
      pathParams: [...url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!),
      family: familyOf(url),
    };
  });
}

function resolve(doc: { components?: { schemas?: Record<string, SchemaObject> } }, schema: SchemaObject | undefined): SchemaObject {
  let s = schema ?? {};
  for (let i = 0; s.$ref && i < 10; i++) s = doc.components?.schemas?.[s.$ref.split('/').at(-1)!] ?? {};
  return s;
}

/** The alternative of a union (oneOf/anyOf) an example object is an instance of: it has all of its fields and their constants. */
function branchOf(doc: object, raw: SchemaObject | undefined, example: Record<string, unknown>): SchemaObject {
  const schema = resolve(doc, raw);
  const alternatives = (schema.oneOf ?? schema.anyOf ?? [schema]).map((s) => resolve(doc, s));
  const fits = (branch: SchemaObject) =>
    Object.entries(example).every(([key, value]) => {
      const property = branch.properties?.[key];
      if (!property) return false;
      if (property.const !== undefined) return property.const === value;
      return property.enum?.length !== 1 || property.enum[0] === value;
    });
  return alternatives.find(fits) ?? schema;
}

/** The JSON types a schema admits (all of them when it says nothing). */
function typesOf(doc: object, raw: SchemaObject | undefined): Set<string> {
  const schema = resolve(doc, raw);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) return new Set(alternatives.flatMap((s) => [...typesOf(doc, s)]));
  if (schema.enum) return new Set(schema.enum.map((v) => (v === null ? 'null' : typeof v)));
  if (schema.const !== undefined) return new Set([schema.const === null ? 'null' : typeof schema.const]);
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    return new Set(types.map((type) => (type === 'integer' ? 'number' : type)));
  }
  return new Set(['string', 'number', 'boolean', 'object', 'array', 'null']);
}

// ---------------------------------------------------------------------------------------------
// The fuzz corpus (fixed, ~15 values per field)
// ---------------------------------------------------------------------------------------------

interface BodyCase {
  label: string;
  /** The value as raw JSON text, or bytes (invalid UTF-8). */
  raw: string | Buffer;
}

const MEGABYTE_STRING = JSON.stringify('x'.repeat(1_000_000));
const DEEP = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;

function bodyCorpus(doc: object, raw: SchemaObject | undefined): BodyCase[] {
  const schema = resolve(doc, raw);
  const types = typesOf(doc, schema);
  const flat = [schema, ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].map((s) => resolve(doc, s));
  const cases: BodyCase[] = [
    { label: 'NUL in a string', raw: '"a\\u0000b"' },
    { label: 'lone surrogate', raw: '"a\\ud800b"' },
    { label: 'invalid UTF-8', raw: Buffer.from([0x22, 0x61, 0xff, 0xfe, 0x22]) },
    { label: '1 MB string', raw: MEGABYTE_STRING },
    { label: 'nested 10,000 deep', raw: DEEP },
    { label: 'object with a NUL key', raw: '{"\\u0000":1}' },
  ];
  if (!types.has('null')) cases.push({ label: 'null', raw: 'null' });
  if (!types.has('number')) cases.push({ label: 'a number', raw: '12345' });
  if (!types.has('boolean')) cases.push({ label: 'a boolean', raw: 'true' });
  if (!types.has('array')) cases.push({ label: 'an array', raw: '["x"]' });
  if (!types.has('object')) cases.push({ label: 'an object', raw: '{"x":"y"}' });
  if (!types.has('string')) cases.push({ label: 'a string', raw: '"x"' });
  if (types.has('number')) {
    cases.push({ label: '1e308', raw: '1e308' }, { label: '-1e308', raw: '-1e308' }, { label: '9999999999999999999', raw: '9999999999999999999' });
    if (flat.some((s) => s.type === 'integer')) cases.push({ label: 'a fraction', raw: '1.5' });
    if (flat.some((s) => typeof s.minimum === 'number' && s.minimum >= 0)) cases.push({ label: '-1', raw: '-1' });
  }
  if (flat.some((s) => s.format === 'date-time')) {
    cases.push(
      { label: 'year 0000', raw: '"0000-01-01T00:00:00Z"' },
      { label: 'year +275760', raw: '"+275760-09-13T00:00:00Z"' },
      { label: 'February 30', raw: '"2026-02-30T00:00:00Z"' },
      { label: 'not a date', raw: '"yesterday"' },
    );
  }
  if (flat.some((s) => s.enum || s.const !== undefined)) cases.push({ label: 'not a member of the enum', raw: '"not-a-member"' });
  return cases;
}

const b64 = (value: string) => Buffer.from(value).toString('base64url');

function queryCorpus(doc: object, name: string, raw: SchemaObject): Array<{ label: string; query: string }> {
  const schema = resolve(doc, raw);
  const types = typesOf(doc, schema);
  const one = (label: string, value: string) => ({ label, query: `${encodeURIComponent(name)}=${value}` });
  const cases = [
    one('NUL', '%00'),
    one('NUL inside', 'a%00b'),
    one('invalid UTF-8', '%FF'),
    one('encoded lone surrogate', '%ED%A0%80'),
    one('bad percent-encoding', '%E0%A4%A'),
    one('9,000 characters', 'x'.repeat(9000)),
  ];
  // A parameter whose schema admits an array may be repeated (e.g. Confluent's ?display_name=a&display_name=b).
  if (!types.has('array')) cases.push({ label: 'repeated (an array)', query: `${encodeURIComponent(name)}=a&${encodeURIComponent(name)}=b` });
  if (types.has('number') && !types.has('string')) {
    cases.push(
      one('not a number', 'abc'),
      one('1e308', '1e308'),
      one('9999999999999999999', '9999999999999999999'),
      one('-1', '-1'),
      one('1.5', '1.5'),
      one('empty', ''),
    );
  }
  if (schema.format === 'date-time') {
    cases.push(one('year 0000', '0000-01-01T00:00:00Z'), one('year +275760', '%2B275760-09-13T00:00:00Z'), one('not a date', 'yesterday'));
  }
  if (schema.enum) cases.push(one('not a member of the enum', 'not-a-member'));
  if (name === 'page_token') {
    cases.push(
      one('not base64', '!!!'),
      one('base64 of a number array', b64('[1,2]')),
      one('base64 of an object', b64('{"a":1}')),
      one('year 0000 cursor', b64('["0000-01-01T00:00:00.000Z","x"]')),
      one('year +275760 cursor', b64('["+275760-09-13T00:00:00.000Z","x"]')),
      one('NUL in the cursor id', b64('["2026-01-01T00:00:00.000Z","a\\u0000"]')),
      one('cursor beyond bigint', b64('9999999999999999999')),
    );
  }
  return cases;
}

const PATH_CORPUS: Array<{ label: string; value: string }> = [
  { label: 'NUL', value: '%00' },
  { label: 'NUL inside', value: 'a%00b' },
  { label: 'invalid UTF-8', value: '%FF' },
  { label: 'encoded lone surrogate', value: '%ED%A0%80' },
  { label: 'bad percent-encoding', value: '%E0%A4%A' },
  { label: '101 characters', value: 'x'.repeat(101) },
  { label: '5,000 characters', value: 'x'.repeat(5000) },
  // Not `%2E%2E`: app.inject resolves it as a dot segment (WHATWG URL) before Fastify sees it.
  { label: 'dots', value: '..a' },
  { label: 'encoded slash', value: 'a%2Fb' },
  { label: 'quote and SQL', value: "'%20OR%201=1--" },
  { label: 'does not exist', value: 'nonexistent-0' },
  { label: 'beyond bigint', value: '9999999999999999999' },
  { label: 'emoji', value: '%F0%9F%94%91' },
];

// ---------------------------------------------------------------------------------------------
// The suite
// ---------------------------------------------------------------------------------------------

describe('a route without config.auth requires authentication (default-closed)', () => {
  test('an undeclared route answers 401 without a credential and its handler never runs', async (t) => {
    const app = Fastify();
    let ran = false;
    await app.register(errorsPlugin, { tarpit: new Tarpit(0) });
    await app.register(authPlugin, { authenticators: [], failures: new FailureLimiter(1000) });
    app.get('/forgot-to-say', async () => {
      ran = true;
      return { leaked: true };
    });
    app.get('/says-public', { config: { auth: 'public' } }, async () => ({ ok: true }));
    await app.ready();
    t.after(() => app.close());
    const res = await app.inject({ method: 'GET', url: '/forgot-to-say' });
    assert.equal(res.statusCode, 401);
    assert.equal(ran, false);
    assert.deepEqual(app.routeTable.map((r) => `${r.method} ${r.url} ${r.auth}`).sort(), ['GET /forgot-to-say management', 'GET /says-public public']);
    assert.equal((await app.inject({ method: 'GET', url: '/says-public' })).statusCode, 200);
  });
});

describe('generated security suite: every route in the table', () => {
  let t: TestApp;
  let fx: Fixture;
  let routes: Route[];
  let doc: object;

  before(async () => {
    t = await startTestApp();
    fx = await createFixture(t);
    routes = routesOf(t);
    doc = t.app.swagger();
  });
  after(() => t.close());

  /**
   * The concrete URL of a route with the fixture's ids (and the query naming its object, if any),
   * one path parameter optionally replaced, and `query` (raw) in place of the fixture query's
   * parameter of the same name.
   */
  function urlOf(route: Route, replace?: { param: string; value: string }, query?: { name: string; raw: string }): string {
    const fixed = Object.entries(QUERY_PARAMS[route.key]?.(fx) ?? {})
      .filter(([name]) => name !== query?.name)
      .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
    const search = [...fixed, ...(query ? [query.raw] : [])].join('&');
    return pathOf(route, replace) + (search ? `?${search}` : '');
  }

  function pathOf(route: Route, replace?: { param: string; value: string }): string {
    return route.url
      .replace(/:([A-Za-z0-9_]+)/g, (_, param: string) => (replace?.param === param ? replace.value : encodeURIComponent(pathParamValue(fx, route.url, param))))
      .replace(/\*$/, 'index.html');
  }

  function bodyOf(route: Route): Record<string, unknown> | undefined {
    if (!route.operation?.requestBody) return undefined;
    const example = BODIES[route.operation.operationId];
    if (!example) {
      throw new Error(
        `${route.key} (${route.operation.operationId}) takes a body the security suite has no example of: add a valid one to BODIES in test/security/fixtures.ts`,
      );
    }
    return example(fx);
  }

  const request = (route: Route, headers: Record<string, string | undefined>): InjectOptions => {
    const body = bodyOf(route);
    return {
      method: route.method as InjectOptions['method'],
      url: urlOf(route),
      headers: { ...headers } as Record<string, string>,
      ...(body ? { payload: body } : {}),
    };
  };

  test('every route is accounted for: documented or public, ids and bodies registered', async (t_) => {
    const problems: string[] = [];
    for (const route of routes) {
      if (route.auth === 'public' && !isPublicListed(route.key))
        problems.push(`${route.key} is public but not in PUBLIC_ROUTES: declare it (with why) or give it config.auth`);
      if (route.auth !== 'public' && !route.operation) problems.push(`${route.key} requires a credential but is not in the OpenAPI document`);
      if (route.auth === 'management' && !route.action) problems.push(`${route.key} declares no action: give it config.auth 'root' or the action it performs`);
      try {
        urlOf(route);
        bodyOf(route);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    assert.deepEqual(problems, []);
    t_.diagnostic(
      `${routes.length} routes: ${routes.filter((r) => r.auth === 'public').length} public, ${routes.filter((r) => r.auth === 'root').length} root-only, ${routes.filter((r) => r.auth === 'management').length} management`,
    );
  });

  test('(a) no credential → 401, and nothing but the declared public routes answers 2xx without one', async (t_) => {
    const failures: string[] = [];
    let cases = 0;
    for (const route of routes) {
      for (const headers of [{}, { authorization: 'Basic bm90OmEta2V5' }, { authorization: 'Bearer not-a-token' }]) {
        cases++;
        const res = await t.inject(request(route, headers));
        if (res.statusCode >= 200 && res.statusCode < 300 && !isPublicListed(route.key))
          failures.push(`${route.key} answered ${res.statusCode} without a valid credential`);
        if (route.auth === 'public') continue;
        if (res.statusCode !== 401 || !route.family.isError(res))
          failures.push(`${route.key} ${JSON.stringify(headers)}: expected 401 in ${route.family.name}, got ${res.statusCode} ${res.body.slice(0, 160)}`);
        else if (!res.headers['www-authenticate']) failures.push(`${route.key}: 401 without WWW-Authenticate`);
      }
    }
    assert.deepEqual(failures, []);
    t_.diagnostic(`(a) ${routes.length} routes × 3 credential cases = ${cases} requests`);
  });

  test("(b) another organization's admin → 404 for this organization's objects", async (t_) => {
    const failures: string[] = [];
    const fixtureIds = [
      fx.orgId,
      fx.environmentId,
      fx.serviceAccountId,
      fx.userId,
      fx.roleBindingId,
      fx.apiKeyId,
      fx.clusterKeyId,
      fx.accessKeyName,
      fx.clientName,
      fx.clientId,
      ...Object.values(fx.resources),
    ];
    let cases = 0;
    for (const route of routes.filter((r) => r.auth !== 'public')) {
      cases++;
      const before = await countRows(t.store);
      const res = await t.inject(request(route, { authorization: fx.otherTenantAdmin.authorization }));
      const declared = NOT_TENANT_ADDRESSED[route.key];
      const expected = route.auth === 'root' ? 403 : route.pathParams.length > 0 ? 404 : declared?.status;
      if (expected === undefined) {
        failures.push(`${route.key} addresses nothing by path: declare what another tenant gets in NOT_TENANT_ADDRESSED (test/security/routes.test.ts)`);
        continue;
      }
      if (res.statusCode !== expected) failures.push(`${route.key}: expected ${expected}, got ${res.statusCode} ${res.body.slice(0, 160)}`);
      if (res.statusCode >= 400 && !route.family.isError(res)) failures.push(`${route.key}: the ${res.statusCode} is not in ${route.family.name}`);
      if (res.statusCode < 300) {
        if (res.statusCode === 201 || res.statusCode === 202) continue; // a create in the caller's own organization
        const leaked = fixtureIds.filter((id) => res.body.includes(id));
        if (leaked.length > 0) failures.push(`${route.key}: another tenant's answer holds this organization's ids ${leaked.join(', ')}`);
      }
      if (JSON.stringify(await countRows(t.store)) !== JSON.stringify(before)) failures.push(`${route.key}: another tenant's request changed rows`);
    }
    assert.deepEqual(failures, []);
    t_.diagnostic(`(b) ${cases} routes × 1 cross-tenant case`);
  });

  test("(b) verify routes: another organization's Verifier gets 200 INVALID for this organization's credentials, never 403/404", async (t_) => {
    const failures: string[] = [];
    const verifyRoutes = routes.filter((r) => r.method === 'POST' && r.url.startsWith('/v1/verify/'));
    // A single route's answer, or each of the batch route's results.
    const answersOf = (res: LightMyRequestResponse): Array<{ valid?: unknown; code?: unknown }> => {
      const body = json(res);
      return Array.isArray(body?.results) ? body.results : [body ?? {}];
    };
    for (const route of verifyRoutes) {
      // The fixture's own Verifier gets VALID with the same body: the INVALID below is the tenant boundary, not a bad example.
      const mine = await t.inject(request(route, { authorization: fx.weak.authorization }));
      if (mine.statusCode !== 200 || !answersOf(mine).every((answer) => answer.code === 'VALID'))
        failures.push(`${route.key}: the fixture's own Verifier expected 200 VALID, got ${mine.statusCode} ${mine.body.slice(0, 160)}`);
      const before = await countRows(t.store);
      const res = await t.inject(request(route, { authorization: fx.otherTenantVerifier.authorization }));
      if (res.statusCode !== 200 || !answersOf(res).every((answer) => answer.valid === false && answer.code === 'INVALID'))
        failures.push(`${route.key}: expected 200 INVALID, got ${res.statusCode} ${res.body.slice(0, 160)}`);
      const leaked = [fx.orgId, fx.serviceAccountId, fx.apiKeyId, fx.clusterKeyId, fx.accessKeyName].filter((id) => res.body.includes(id));
      if (leaked.length > 0) failures.push(`${route.key}: another tenant's Verifier was told this organization's ids ${leaked.join(', ')}`);
      if (JSON.stringify(await countRows(t.store)) !== JSON.stringify(before)) failures.push(`${route.key}: another tenant's verify changed rows`);
    }
    assert.deepEqual(failures, []);
    assert.ok(verifyRoutes.length >= 4, 'the api-key, cluster-key, access-key and batch verify routes are in the table');
    t_.diagnostic(`${verifyRoutes.length} verify routes`);
  });

  test('(c) a principal whose role grants nothing here → 403', async (t_) => {
    const failures: string[] = [];
    let cases = 0;
    for (const route of routes.filter((r) => r.auth !== 'public')) {
      cases++;
      const before = await countRows(t.store);
      const res = await t.inject(request(route, { authorization: fx.weak.authorization }));
      const declared = WEAK_EXPECTED[route.key];
      if (declared) {
        if (res.statusCode !== declared.status || (res.statusCode >= 400 && !route.family.isError(res)))
          failures.push(`${route.key}: declared ${declared.status} (${declared.why}), got ${res.statusCode} ${res.body.slice(0, 160)}`);
        if (res.statusCode >= 400 && JSON.stringify(await countRows(t.store)) !== JSON.stringify(before))
          failures.push(`${route.key}: a refused request changed rows`);
        continue;
      }
      const open = OPEN_TO_MEMBERS[route.key];
      if (open) {
        if (res.statusCode >= 300) failures.push(`${route.key} is declared open to members (${open}) but answered ${res.statusCode} ${res.body.slice(0, 160)}`);
        continue;
      }
      if (res.statusCode !== 403 || !route.family.isError(res))
        failures.push(`${route.key}: expected 403 in ${route.family.name}, got ${res.statusCode} ${res.body.slice(0, 160)}`);
      if (JSON.stringify(await countRows(t.store)) !== JSON.stringify(before)) failures.push(`${route.key}: a refused request changed rows`);
    }
    assert.deepEqual(failures, []);
    t_.diagnostic(`(c) ${cases} routes × 1 weak-role case (${Object.keys(OPEN_TO_MEMBERS).length} declared open to members)`);
  });

  test('(d) bad values in every body field, path and query parameter → 4xx naming the field, nothing changed', async (t_) => {
    const failures: string[] = [];
    const perRoute: string[] = [];
    let total = 0;

    async function check(route: Route, what: string, field: string | undefined, options: InjectOptions) {
      total++;
      const res = await t.inject(options);
      const where = `${route.key} ${what}`;
      if (res.statusCode < 400 || res.statusCode >= 500) failures.push(`${where}: expected 4xx, got ${res.statusCode} ${res.body.slice(0, 200)}`);
      else if (!route.family.isError(res)) failures.push(`${where}: the ${res.statusCode} is not in ${route.family.name}: ${res.body.slice(0, 200)}`);
      else if (
        res.statusCode === 422 &&
        field &&
        route.family.fieldsNamed(res).length > 0 &&
        !route.family.fieldsNamed(res).some((p) => p === field || p.startsWith(`${field}.`) || p.startsWith(`${field}[`))
      ) {
        failures.push(`${where}: the 422 does not name ${field}: ${res.body.slice(0, 200)}`);
      }
    }

    for (const route of routes) {
      if (!route.operation) continue; // undocumented public routes (docs, the document itself) take no input
      const headers = route.family.fuzzCaller(t, fx);
      const start = total;
      // Counted per route, not per case, to keep the suite quick: a change names the route, and
      // its cases are few enough to bisect by hand.
      const rowsBefore = JSON.stringify(await countRows(t.store));
      const base = bodyOf(route);
      const query = route.operation.parameters?.filter((p) => p.in === 'query') ?? [];

      for (const param of route.pathParams) {
        for (const c of PATH_CORPUS) {
          await check(route, `path :${param} = ${c.label}`, param, {
            method: route.method as InjectOptions['method'],
            url: urlOf(route, { param, value: c.value }),
            headers,
            ...(base ? { payload: base } : {}),
          });
        }
      }
      for (const param of query) {
        for (const c of queryCorpus(doc, param.name, param.schema)) {
          await check(route, `query ${param.name} = ${c.label}`, param.name, {
            method: route.method as InjectOptions['method'],
            url: urlOf(route, undefined, { name: param.name, raw: c.query }),
            headers,
            ...(base ? { payload: base } : {}),
          });
        }
      }
      if (base) {
        const content = route.operation.requestBody!.content['application/json'];
        const schema = resolve(doc, content?.schema);
        // Top-level fields from the schema, and one level down into the example's objects and
        // into each object in the example's arrays (e.g. items.0.secret of the batch route).
        const fields: Array<{ path: string[]; schema: SchemaObject | undefined }> = Object.entries(schema.properties ?? {}).map(([name, s]) => ({
          path: [name],
          schema: s,
        }));
        for (const [name, value] of Object.entries(base)) {
          if (value && typeof value === 'object' && !Array.isArray(value)) {
            const parent = resolve(doc, schema.properties?.[name]);
            for (const child of Object.keys(value)) fields.push({ path: [name, child], schema: parent.properties?.[child] });
          }
          if (Array.isArray(value)) {
            for (const [index, element] of value.entries()) {
              if (!element || typeof element !== 'object' || Array.isArray(element)) continue;
              const elementSchema = branchOf(doc, resolve(doc, schema.properties?.[name]).items, element as Record<string, unknown>);
              for (const child of Object.keys(element)) fields.push({ path: [name, String(index), child], schema: elementSchema.properties?.[child] });
            }
          }
        }
        for (const field of fields) {
          for (const c of bodyCorpus(doc, field.schema)) {
            const marker = '"__fuzz_value__"';
            const spoiled = structuredClone(base);
            let target = spoiled as Record<string, unknown>;
            for (const key of field.path.slice(0, -1)) target = target[key] as Record<string, unknown>;
            target[field.path.at(-1)!] = '__fuzz_value__';
            const [head, tail] = JSON.stringify(spoiled).split(marker) as [string, string];
            const payload = typeof c.raw === 'string' ? head + c.raw + tail : Buffer.concat([Buffer.from(head), c.raw, Buffer.from(tail)]);
            await check(route, `body ${field.path.join('.')} = ${c.label}`, field.path.join('.'), {
              method: route.method as InjectOptions['method'],
              url: urlOf(route),
              headers: { ...headers, 'content-type': 'application/json' },
              payload,
            });
          }
        }
        await check(route, 'body with an unknown NUL-named field', undefined, {
          method: route.method as InjectOptions['method'],
          url: urlOf(route),
          headers: { ...headers, 'content-type': 'application/json' },
          payload: JSON.stringify({ ...base, 'x\u0000': 1 }),
        });
        if (!route.family.bodyWhateverContentType)
          await check(route, 'body as text/plain', undefined, {
            method: route.method as InjectOptions['method'],
            url: urlOf(route),
            headers: { ...headers, 'content-type': 'text/plain' },
            payload: JSON.stringify(base),
          });
      }
      if (JSON.stringify(await countRows(t.store)) !== rowsBefore) failures.push(`${route.key}: a fuzz case changed rows`);
      if (total > start) perRoute.push(`${route.key}: ${total - start}`);
    }
    assert.deepEqual(failures, []);
    t_.diagnostic(`(d) ${perRoute.length} routes × their fields = ${total} fuzz cases`);
    t_.diagnostic(perRoute.join('; '));
  });
});
