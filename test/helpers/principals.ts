import assert from 'node:assert/strict';
import { newApiKeyId } from '../../src/crypto/tokens.js';
import { type TestApp, uniqueName } from './app.js';

export type ScopeRef = { type: 'organization' } | { type: 'environment' | 'resource'; id: string };

export const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });

/** A fresh organization created by root; returns its id. */
export async function createOrg(t: TestApp, settings?: Record<string, unknown>): Promise<string> {
  const res = await t.inject({ method: 'POST', url: '/v1/orgs', headers: t.root, payload: { name: uniqueName('org'), ...(settings ? { settings } : {}) } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id;
}

/** POSTs as root and returns the created object, failing the test on any other status than 201. */
export async function createAsRoot(t: TestApp, url: string, payload: object): Promise<Record<string, any>> {
  const res = await t.inject({ method: 'POST', url, headers: t.root, payload });
  assert.equal(res.statusCode, 201, `${url}: ${res.body}`);
  return res.json();
}

/**
 * A service account with the given role bindings and a cloud API key: what a principal needs to
 * call the management API. Returns the Basic header for that key.
 */
export async function credentialFor(
  t: TestApp,
  orgId: string,
  bindings: Array<{ role: string; scope: ScopeRef }>,
): Promise<{ principalId: string; keyId: string; secret: string; authorization: string }> {
  const sa = await createAsRoot(t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName('sa') });
  for (const binding of bindings) {
    await createAsRoot(t, `/v1/orgs/${orgId}/role-bindings`, { principal: sa.id, role: binding.role, scope: binding.scope });
  }
  const key = await createAsRoot(t, `/v1/orgs/${orgId}/api-keys`, { owner: sa.id, scope: { type: 'cloud' } });
  return { principalId: sa.id, keyId: key.id, secret: key.secret, authorization: basic(key.id, key.secret).authorization };
}

/** An environment and a Kafka cluster in it. */
export async function createCluster(t: TestApp, orgId: string, kind = 'kafka_cluster'): Promise<{ environmentId: string; resourceId: string }> {
  const env = await createAsRoot(t, `/v1/orgs/${orgId}/environments`, { display_name: uniqueName('env') });
  const resource = await createAsRoot(t, `/v1/orgs/${orgId}/resources`, { kind, display_name: uniqueName('res'), environment_id: env.id });
  return { environmentId: env.id, resourceId: resource.id };
}

/** The service-account suites' shared setup; `app` returns the suite's running app. */
export function serviceAccountFixtures(app: () => TestApp) {
  const newOrg = (settings?: Record<string, unknown>) => createOrg(app(), settings);
  const createSa = (orgId: string, body: unknown) =>
    app().inject({ method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, headers: app().root, payload: body as object });
  const newSa = async (orgId: string, displayName = uniqueName('sa')): Promise<string> => {
    const res = await createSa(orgId, { display_name: displayName });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  /** An API key row owned by the principal, as the api-keys module would store it. */
  const addKey = async (orgId: string, ownerId: string, fields: { lastUsedAt?: Date; status?: 'active' | 'revoked' } = {}) => {
    const id = newApiKeyId();
    await app().store.prisma.apiKey.create({ data: { id, orgId, ownerId, type: 'cloud', secretHash: '$argon2id$fixture', secretHint: 'abcd', ...fields } });
    return id;
  };
  const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);

  return { newOrg, createSa, newSa, addKey, hoursAgo };
}

/** The user suites' shared setup; `app` returns the suite's running app. */
export function userFixtures(app: () => TestApp) {
  const newOrg = () => createOrg(app());
  const createUser = (orgId: string, body: unknown) =>
    app().inject({ method: 'POST', url: `/v1/orgs/${orgId}/users`, headers: app().root, payload: body as object });
  const newUser = async (orgId: string, email = `${uniqueName('user')}@example.com`): Promise<string> => {
    const res = await createUser(orgId, { email });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };

  return { newOrg, createUser, newUser };
}
