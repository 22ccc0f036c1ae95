/**
 * The registry the generated security suite (routes.test.ts) draws on. A route added later is
 * covered by what is here; when it needs something new (a path parameter, a request body), the
 * suite fails and names the one entry to add.
 */
import type { Store } from '../../src/store/index.js';
import { type TestApp, uniqueName } from '../helpers/app.js';
import { createAsRoot, createOrg, credentialFor } from '../helpers/principals.js';

/** Rows per table of the whole database (migrations bookkeeping aside). */
export async function countRows(store: Store): Promise<Record<string, number>> {
  const tables = await store.prisma.$queryRawUnsafe<Array<{ name: string }>>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() AND tablename <> '_prisma_migrations' ORDER BY tablename",
  );
  const counts = await store.prisma.$queryRawUnsafe<Array<{ name: string; n: number }>>(
    tables.map(({ name }) => `SELECT '${name}' AS name, count(*)::int AS n FROM "${name}"`).join(' UNION ALL '),
  );
  return Object.fromEntries(counts.map(({ name, n }) => [name, Number(n)]));
}

export interface Caller {
  authorization: string;
}

/** One organization holding one of each kind of object, and the callers the suite acts as. */
export interface Fixture {
  orgId: string;
  environmentId: string;
  /** One resource per kind, by kind. */
  resources: Record<string, string>;
  serviceAccountId: string;
  userId: string;
  roleBindingId: string;
  /** A resource API key owned by the service account. */
  apiKeyId: string;
  apiKeySecret: string;
  /** A cluster key of the service account for the pulsar_cluster, and its token. */
  clusterKeyId: string;
  clusterKeyToken: string;
  /** An access key on the fluvio_cluster, and the key itself. */
  accessKeyName: string;
  accessKey: string;
  /** A client enrolled in the kdb_insights deployment, and its client id (the credential). */
  clientName: string;
  clientId: string;
  /** The OrganizationAdmin of this organization (a cloud API key). */
  admin: Caller & { keyId: string; secret: string };
  /** A principal of this organization whose only role is Verifier: it may manage nothing. */
  weak: Caller;
  /** The OrganizationAdmin of a second organization. */
  otherTenantAdmin: Caller;
  /** A Verifier of the second organization. */
  otherTenantVerifier: Caller;
}

const RESOURCE_KINDS = ['kafka_cluster', 'schema_registry', 'ksqldb_cluster', 'pulsar_cluster', 'fluvio_cluster', 'kdb_insights'];

export async function createFixture(t: TestApp): Promise<Fixture> {
  const orgId = await createOrg(t);
  const org = `/v1/orgs/${orgId}`;
  const environment = await createAsRoot(t, `${org}/environments`, { display_name: uniqueName('env') });
  const resources: Record<string, string> = {};
  for (const kind of RESOURCE_KINDS) {
    const res = await t.inject({
      method: 'POST',
      url: `${org}/resources`,
      headers: t.root,
      payload: { kind, display_name: uniqueName(kind), environment_id: environment.id },
    });
    // Kinds another module adds later are simply absent until it merges.
    if (res.statusCode === 201) resources[kind] = res.json().id;
  }
  const serviceAccount = await createAsRoot(t, `${org}/service-accounts`, { display_name: uniqueName('sa') });
  const user = await createAsRoot(t, `${org}/users`, { email: `${uniqueName('u')}@example.com` });
  const roleBinding = await createAsRoot(t, `${org}/role-bindings`, {
    principal: serviceAccount.id,
    role: 'DeveloperRead',
    scope: { type: 'environment', id: environment.id },
  });
  const apiKey = await createAsRoot(t, `${org}/api-keys`, { owner: serviceAccount.id, scope: { type: 'resource', resource_id: resources.kafka_cluster } });
  const clusterKey = await createAsRoot(t, `${org}/cluster-keys`, { name: uniqueName('ck'), owner: serviceAccount.id, cluster_id: resources.pulsar_cluster });
  const accessKeyName = uniqueName('ak');
  const accessKey = await createAsRoot(t, `${org}/resources/${resources.fluvio_cluster}/access-keys`, { name: accessKeyName, topic: 'orders' });
  const clientName = uniqueName('client');
  const enrolled = await t.inject({
    method: 'POST',
    url: `/clientcontroller/enrol?resource_id=${resources.kdb_insights}`,
    headers: t.root,
    payload: { name: clientName, topics: { insert: 'data', query: 'requests' } },
  });
  if (enrolled.statusCode !== 200) throw new Error(`enrolling the fixture client failed: ${enrolled.statusCode} ${enrolled.body}`);
  const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
  const weak = await credentialFor(t, orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
  const otherOrgId = await createOrg(t);
  const otherTenantAdmin = await credentialFor(t, otherOrgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
  const otherTenantVerifier = await credentialFor(t, otherOrgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
  return {
    orgId,
    environmentId: environment.id,
    resources,
    serviceAccountId: serviceAccount.id,
    userId: user.id,
    roleBindingId: roleBinding.id,
    apiKeyId: apiKey.id,
    apiKeySecret: apiKey.secret,
    clusterKeyId: clusterKey.id,
    clusterKeyToken: clusterKey.token,
    accessKeyName,
    accessKey: accessKey.key,
    clientName,
    clientId: enrolled.json().url,
    admin: { authorization: admin.authorization, keyId: admin.keyId, secret: admin.secret },
    weak: { authorization: weak.authorization },
    otherTenantAdmin: { authorization: otherTenantAdmin.authorization },
    otherTenantVerifier: { authorization: otherTenantVerifier.authorization },
  };
}

/**
 * A real id for every path parameter, by name; `METHOD url` or `url:param` entries override
 * the name for routes where it is ambiguous (`:id`). Ids here belong to the fixture's
 * organization, so another tenant must get 404 for them.
 */
export const PATH_PARAMS: Record<string, (fx: Fixture) => string> = {
  org_id: (fx) => fx.orgId,
  env_id: (fx) => fx.environmentId,
  resource_id: (fx) => fx.resources.kafka_cluster!,
  sa_id: (fx) => fx.serviceAccountId,
  user_id: (fx) => fx.userId,
  rb_id: (fx) => fx.roleBindingId,
  key_id: (fx) => fx.apiKeyId,
  '/iam/v2/api-keys/:id:id': (fx) => fx.apiKeyId,
  '/iam/v2/service-accounts/:id:id': (fx) => fx.serviceAccountId,
  '/v1/orgs/:org_id/cluster-keys/:key_id:key_id': (fx) => fx.clusterKeyId,
  '/v1/orgs/:org_id/cluster-keys/:key_id/revoke:key_id': (fx) => fx.clusterKeyId,
  // Access keys live on the fluvio_cluster, by name.
  cluster_id: (fx) => fx.resources.fluvio_cluster!,
  '/v1/orgs/:org_id/resources/:cluster_id/access-keys/:name:name': (fx) => fx.accessKeyName,
  '/v1/orgs/:org_id/resources/:cluster_id/access-keys/:name/rotate:name': (fx) => fx.accessKeyName,
  // kdb Insights routes address the kdb_insights deployment; clients by name.
  '/v1/orgs/:org_id/resources/:resource_id/clients:resource_id': (fx) => fx.resources.kdb_insights!,
  '/v1/orgs/:org_id/resources/:resource_id/clients/:name:resource_id': (fx) => fx.resources.kdb_insights!,
  '/v1/orgs/:org_id/resources/:resource_id/clients/:name:name': (fx) => fx.clientName,
  '/v1/orgs/:org_id/resources/:resource_id/ca.pem:resource_id': (fx) => fx.resources.kdb_insights!,
  '/v1/orgs/:org_id/resources/:resource_id/crl.pem:resource_id': (fx) => fx.resources.kdb_insights!,
  '/v1/orgs/:org_id/resources/:resource_id/server-certificates:resource_id': (fx) => fx.resources.kdb_insights!,
  client_id: (fx) => fx.clientId,
};

/**
 * Query parameters a route needs to address the fixture's object, by route (`METHOD url`). The
 * suite sends them on every request to the route; the fuzz corpus replaces one at a time.
 */
export const QUERY_PARAMS: Record<string, (fx: Fixture) => Record<string, string>> = {
  // The Insights routes name their deployment by ?resource_id (else the caller's only one).
  'POST /clientcontroller/enrol': (fx) => ({ resource_id: fx.resources.kdb_insights! }),
  'POST /clientcontroller/leave': (fx) => ({ resource_id: fx.resources.kdb_insights! }),
};

export function pathParamValue(fx: Fixture, url: string, param: string): string {
  const value = PATH_PARAMS[`${url}:${param}`] ?? PATH_PARAMS[param];
  if (!value) {
    throw new Error(
      `${url} has a path parameter :${param} the security suite has no fixture for: add "${param}" (or "${url}:${param}") to PATH_PARAMS in test/security/fixtures.ts, creating the object in createFixture if needed`,
    );
  }
  return value(fx);
}

/**
 * A valid request body per operationId (for routes that take one): the base each fuzz case
 * spoils one field of, and what the authorization checks send so that they reach the policy.
 */
export const BODIES: Record<string, (fx: Fixture) => Record<string, unknown>> = {
  issueAccessToken: (fx) => ({ grant_type: 'client_credentials', client_id: fx.admin.keyId, client_secret: fx.admin.secret }),
  createOrganization: () => ({ name: uniqueName('o'), display_name: 'Org', settings: { key_quota: 10 } }),
  updateOrganization: () => ({ display_name: 'Org', settings: { key_quota: 10 } }),
  createEnvironment: () => ({ display_name: 'env' }),
  updateEnvironment: () => ({ display_name: 'env' }),
  createResource: (fx) => ({ kind: 'kafka_cluster', display_name: 'res', environment_id: fx.environmentId, cloud: 'aws', region: 'us-east-2' }),
  updateResource: () => ({ display_name: 'res', cloud: 'aws', region: 'us-east-2' }),
  createServiceAccount: () => ({ display_name: uniqueName('sa'), description: 'd' }),
  updateServiceAccount: () => ({ display_name: uniqueName('sa'), description: 'd' }),
  createUser: () => ({ email: `${uniqueName('u')}@example.com`, full_name: 'U' }),
  updateUser: () => ({ email: `${uniqueName('u')}@example.com`, full_name: 'U' }),
  createRoleBinding: (fx) => ({ principal: fx.serviceAccountId, role: 'DeveloperWrite', scope: { type: 'environment', id: fx.environmentId } }),
  createApiKey: (fx) => ({
    owner: fx.serviceAccountId,
    scope: { type: 'resource', resource_id: fx.resources.kafka_cluster },
    display_name: 'k',
    description: 'd',
    expires_at: '2099-01-01T00:00:00Z',
  }),
  updateApiKey: () => ({ display_name: 'k', description: 'd' }),
  rotateApiKey: () => ({ grace_period_seconds: 60 }),
  verifyApiKey: (fx) => ({ key: fx.apiKeyId, secret: fx.apiKeySecret, resource_id: fx.resources.kafka_cluster }),
  confluentCreateApiKey: (fx) => ({
    api_version: 'iam/v2',
    kind: 'ApiKey',
    spec: { display_name: 'k', description: 'd', owner: { id: fx.serviceAccountId }, resource: { id: fx.resources.kafka_cluster } },
  }),
  confluentUpdateApiKey: () => ({ api_version: 'iam/v2', kind: 'ApiKey', spec: { display_name: 'k', description: 'd' } }),
  confluentCreateServiceAccount: () => ({ api_version: 'iam/v2', kind: 'ServiceAccount', display_name: uniqueName('sa'), description: 'd' }),
  confluentUpdateServiceAccount: () => ({ api_version: 'iam/v2', kind: 'ServiceAccount', display_name: uniqueName('sa'), description: 'd' }),
  createClusterKey: (fx) => ({
    name: uniqueName('ck'),
    owner: fx.serviceAccountId,
    cluster_id: fx.resources.pulsar_cluster,
    description: 'd',
    expires_at: '2099-01-01T00:00:00Z',
  }),
  createClusterSigningKey: () => ({ activate_at: '2099-01-01T00:00:00Z', algorithm: 'ES256' }),
  verifyClusterKey: (fx) => ({ token: fx.clusterKeyToken, cluster_id: fx.resources.pulsar_cluster }),
  createAccessKey: () => ({
    name: uniqueName('ak'),
    protocol: 'simple',
    topic: 'orders',
    consume: true,
    produce: false,
    key_filter_remote: 'tenant:https://filter.example.com/keys',
  }),
  rotateAccessKey: () => ({ grace_period_seconds: 60 }),
  verifyAccessKey: (fx) => ({
    access_key: fx.accessKey,
    cluster_id: fx.resources.fluvio_cluster,
    operation: 'produce',
    topic: 'orders',
    params: { tenant: 'a' },
  }),
  verifyBatch: (fx) => ({
    items: [
      { kind: 'api_key', ...BODIES.verifyApiKey!(fx) },
      { kind: 'cluster_key', ...BODIES.verifyClusterKey!(fx) },
      { kind: 'access_key', ...BODIES.verifyAccessKey!(fx) },
    ],
  }),
  createInsightsServerCertificate: () => ({ dns_names: ['kx.example.com'], ip_addresses: ['10.0.0.1'], days: 10 }),
  insightsEnrolClient: () => ({ name: uniqueName('client'), topics: { insert: 'data', query: 'requests' } }),
  insightsLeaveClient: (fx) => ({ name: fx.clientName }),
};
