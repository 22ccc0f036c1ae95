import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newApiKeyId, newId } from '../../../src/crypto/tokens.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestApp, uniqueName, type TestApp } from '../../helpers/app.js';
import { credentialFor } from '../../helpers/principals.js';

describe('service accounts', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const newOrg = async (settings?: object): Promise<string> => {
    const res = await t.inject({ method: 'POST', url: '/v1/orgs', headers: t.root, payload: { name: uniqueName('sa'), ...(settings ? { settings } : {}) } });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  const createSa = (orgId: string, body: unknown) =>
    t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, headers: t.root, payload: body as object });
  const newSa = async (orgId: string, displayName = uniqueName('sa')): Promise<string> => {
    const res = await createSa(orgId, { display_name: displayName });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  /** An API key row owned by the principal, as the api-keys module would store it. */
  const addKey = async (orgId: string, ownerId: string, fields: { lastUsedAt?: Date; status?: 'active' | 'revoked' } = {}) => {
    const id = newApiKeyId();
    await t.store.prisma.apiKey.create({ data: { id, orgId, ownerId, type: 'cloud', secretHash: '$argon2id$fixture', secretHint: 'abcd', ...fields } });
    return id;
  };
  const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);
  const paths = (body: { errors: Array<{ path: string }> }) => body.errors.map((e) => e.path).sort();

  test('create answers 201 with the service account and writes an audit event', async () => {
    const orgId = await newOrg();
    const res = await createSa(orgId, { display_name: 'orders-ci', description: 'CI for the orders service' });
    assert.equal(res.statusCode, 201);
    const sa = res.json();
    assert.match(sa.id, /^sa-[a-z0-9]{10}$/);
    assert.equal(sa.display_name, 'orders-ci');
    assert.equal(sa.description, 'CI for the orders service');
    assert.deepEqual(Object.keys(sa).sort(), ['created_at', 'description', 'display_name', 'id', 'updated_at']);
    const row = await t.store.prisma.principal.findUniqueOrThrow({ where: { id: sa.id } });
    assert.equal(row.kind, 'service_account');
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'service_account.create' } });
    assert.equal(event?.target, sa.id);
    assert.deepEqual(event?.details, { display_name: 'orders-ci' });
  });

  test('description is optional and reads back empty', async () => {
    const orgId = await newOrg();
    const res = await createSa(orgId, { display_name: 'bare' });
    assert.equal(res.statusCode, 201);
    assert.equal(res.json().description, '');
  });

  test('a display name already used in the organization is 409 name_taken', async () => {
    const orgId = await newOrg();
    await newSa(orgId, 'etl');
    const dup = await createSa(orgId, { display_name: 'etl', description: 'again' });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'name_taken');
    assert.match(dup.json().detail, /"etl"/);
    assert.equal(await t.store.prisma.principal.count({ where: { orgId } }), 1);
    assert.equal((await createSa(await newOrg(), { display_name: 'etl' })).statusCode, 201);
  });

  test('invalid bodies are 422 naming every bad field', async () => {
    const orgId = await newOrg();
    const res = await createSa(orgId, { display_name: '', description: 'x'.repeat(1025), email: 'a@b.co' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(paths(res.json()), ['description', 'display_name', 'email']);
    const missing = await createSa(orgId, {});
    assert.deepEqual(paths(missing.json()), ['display_name']);
    assert.equal(await t.store.prisma.principal.count({ where: { orgId } }), 0);
  });

  test('every route answers 401 without a credential', async () => {
    const orgId = await newOrg();
    const saId = await newSa(orgId);
    const routes: Array<{ method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object }> = [
      { method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, payload: { display_name: 'x' } },
      { method: 'GET', url: `/v1/orgs/${orgId}/service-accounts` },
      { method: 'GET', url: `/v1/orgs/${orgId}/service-accounts/${saId}` },
      { method: 'PATCH', url: `/v1/orgs/${orgId}/service-accounts/${saId}`, payload: { description: 'y' } },
      { method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${saId}` },
    ];
    for (const route of routes) assert.equal((await t.inject(route)).statusCode, 401, `${route.method} ${route.url}`);
    assert.equal(await t.store.prisma.principal.count({ where: { orgId } }), 1);
  });

  test('list pages through the organization’s service accounts, without its users', async () => {
    const orgId = await newOrg();
    const ids = [await newSa(orgId), await newSa(orgId), await newSa(orgId)];
    await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/users`, headers: t.root, payload: { email: 'someone@example.com' } });
    await newSa(await newOrg());
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const url: string = `/v1/orgs/${orgId}/service-accounts?page_size=2${token ? `&page_token=${token}` : ''}`;
      const res = await t.inject({ method: 'GET', url, headers: t.root });
      assert.equal(res.statusCode, 200);
      seen.push(...res.json().data.map((sa: { id: string }) => sa.id));
      token = res.json().next_page_token;
    } while (token);
    assert.deepEqual(seen.sort(), ids.sort());
  });

  test('get answers the service account; another organization’s, or a user id, is 404', async () => {
    const orgId = await newOrg();
    const saId = await newSa(orgId, 'reader');
    const res = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/service-accounts/${saId}`, headers: t.root });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().display_name, 'reader');
    const cross = await t.inject({ method: 'GET', url: `/v1/orgs/${await newOrg()}/service-accounts/${saId}`, headers: t.root });
    assert.equal(cross.statusCode, 404);
    const user = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/users`, headers: t.root, payload: { email: 'u@example.com' } });
    const asSa = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/service-accounts/${user.json().id}`, headers: t.root });
    assert.equal(asSa.statusCode, 404);
    assert.match(asSa.json().detail, /service account u-/);
  });

  test('patch updates display name and description and is audited; a taken name is 409', async () => {
    const orgId = await newOrg();
    await newSa(orgId, 'taken');
    const saId = await newSa(orgId, 'mine');
    const url = `/v1/orgs/${orgId}/service-accounts/${saId}`;
    const res = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { display_name: 'renamed', description: 'now described' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().display_name, 'renamed');
    assert.equal(res.json().description, 'now described');
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'service_account.update', target: saId } });
    assert.deepEqual(event?.details, { fields: ['display_name', 'description'] });
    const dup = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { display_name: 'taken' } });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'name_taken');
    const bad = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { display_name: '', kind: 'user' } });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(paths(bad.json()), ['display_name', 'kind']);
    assert.equal((await t.store.prisma.principal.findUniqueOrThrow({ where: { id: saId } })).displayName, 'renamed');
  });

  test('an empty patch changes nothing and writes no audit event', async () => {
    const orgId = await newOrg();
    const saId = await newSa(orgId);
    const url = `/v1/orgs/${orgId}/service-accounts/${saId}`;
    const before = await t.inject({ method: 'GET', url, headers: t.root });
    const res = await t.inject({ method: 'PATCH', url, headers: t.root, payload: {} });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), before.json());
    assert.equal(await t.store.prisma.auditEvent.count({ where: { orgId, action: 'service_account.update' } }), 0);
  });

  test('patch of another organization’s service account is 404', async () => {
    const orgId = await newOrg();
    const saId = await newSa(orgId, 'mine');
    const res = await t.inject({ method: 'PATCH', url: `/v1/orgs/${await newOrg()}/service-accounts/${saId}`, headers: t.root, payload: { description: 'stolen' } });
    assert.equal(res.statusCode, 404);
    assert.equal((await t.store.prisma.principal.findUniqueOrThrow({ where: { id: saId } })).description, '');
  });

  test('delete removes the service account with its keys and role bindings, and drops the keys from caches', async () => {
    const orgId = await newOrg();
    const saId = await newSa(orgId);
    const keys = [await addKey(orgId, saId), await addKey(orgId, saId, { lastUsedAt: hoursAgo(30) })].sort();
    await t.store.prisma.roleBinding.create({ data: { id: newId('rb'), orgId, principalId: saId, role: 'OrganizationAdmin', scopeType: 'organization', scopeId: orgId } });
    const invalidated: string[] = [];
    const unsubscribe = t.store.bus.subscribe((invalidation) => {
      if (invalidation !== 'all' && invalidation.kind === 'api_key') invalidated.push(...invalidation.ids);
    });
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${saId}`, headers: t.root });
    unsubscribe();
    assert.equal(res.statusCode, 204);
    assert.equal(await t.store.prisma.principal.count({ where: { id: saId } }), 0);
    assert.equal(await t.store.prisma.apiKey.count({ where: { ownerId: saId } }), 0);
    assert.equal(await t.store.prisma.roleBinding.count({ where: { principalId: saId } }), 0);
    assert.deepEqual([...new Set(invalidated)].sort(), keys);
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'service_account.delete', target: saId } });
    assert.deepEqual(event?.details, { force: false, api_keys_deleted: keys, role_bindings_deleted: 1 });
  });

  test('delete while a key was used within 24 hours is 409 recently_used naming the keys; ?force=true deletes', async () => {
    const orgId = await newOrg();
    const saId = await newSa(orgId);
    const recent = await addKey(orgId, saId, { lastUsedAt: hoursAgo(1) });
    await addKey(orgId, saId, { lastUsedAt: hoursAgo(25) });
    await addKey(orgId, saId, { lastUsedAt: hoursAgo(1), status: 'revoked' });
    const url = `/v1/orgs/${orgId}/service-accounts/${saId}`;
    const res = await t.inject({ method: 'DELETE', url, headers: t.root });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'recently_used');
    assert.deepEqual(res.json().key_ids, [recent]);
    assert.match(res.json().detail, new RegExp(`${recent}.*\\?force=true`));
    assert.equal(await t.store.prisma.apiKey.count({ where: { ownerId: saId } }), 3);
    assert.equal(await t.store.prisma.auditEvent.count({ where: { orgId, action: 'service_account.delete' } }), 0);

    const forced = await t.inject({ method: 'DELETE', url: `${url}?force=true`, headers: t.root });
    assert.equal(forced.statusCode, 204);
    assert.equal(await t.store.prisma.principal.count({ where: { id: saId } }), 0);
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'service_account.delete' } });
    assert.equal((event?.details as { force: boolean }).force, true);
  });

  test('the organization’s recent_use_hours overrides the 24-hour default', async () => {
    const orgId = await newOrg({ recent_use_hours: 2 });
    const saId = await newSa(orgId);
    await addKey(orgId, saId, { lastUsedAt: hoursAgo(3) });
    assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${saId}`, headers: t.root })).statusCode, 204);

    const strictOrg = await newOrg({ recent_use_hours: 48 });
    const strictSa = await newSa(strictOrg);
    const key = await addKey(strictOrg, strictSa, { lastUsedAt: hoursAgo(30) });
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${strictOrg}/service-accounts/${strictSa}`, headers: t.root });
    assert.equal(res.statusCode, 409);
    assert.deepEqual(res.json().key_ids, [key]);
    assert.match(res.json().detail, /48 hours/);
  });

  test('delete of another organization’s service account is 404; a bad force value is 422', async () => {
    const orgId = await newOrg();
    const saId = await newSa(orgId);
    const cross = await t.inject({ method: 'DELETE', url: `/v1/orgs/${await newOrg()}/service-accounts/${saId}?force=true`, headers: t.root });
    assert.equal(cross.statusCode, 404);
    const bad = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${saId}?force=yes`, headers: t.root });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(paths(bad.json()), ['force']);
    assert.equal(await t.store.prisma.principal.count({ where: { id: saId } }), 1);
  });

  describe('with a principal’s cloud API key', () => {
    test('an OrganizationAdmin manages service accounts, and the audit trail names it', async () => {
      const orgId = await newOrg();
      const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const headers = { authorization: admin.authorization };
      const res = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, headers, payload: { display_name: 'made-by-admin' } });
      assert.equal(res.statusCode, 201);
      const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'service_account.create', target: res.json().id } });
      assert.equal(event?.actor, admin.principalId);
      assert.equal((await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/service-accounts/${res.json().id}`, headers, payload: { description: 'x' } })).statusCode, 200);
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${res.json().id}`, headers })).statusCode, 204);
    });

    test('an EnvironmentAdmin reads service accounts but may not create, change or delete them (403)', async () => {
      const orgId = await newOrg();
      const envId = (await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: t.root, payload: { display_name: 'prod' } })).json().id;
      const envAdmin = await credentialFor(t, orgId, [{ role: 'EnvironmentAdmin', scope: { type: 'environment', id: envId } }]);
      const headers = { authorization: envAdmin.authorization };
      const saId = await newSa(orgId, 'target');
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/service-accounts`, headers })).statusCode, 200);
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/service-accounts/${saId}`, headers })).statusCode, 200);
      const create = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, headers, payload: { display_name: 'nope' } });
      assert.equal(create.statusCode, 403);
      assert.equal(create.json().code, 'forbidden');
      assert.equal((await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/service-accounts/${saId}`, headers, payload: { description: 'x' } })).statusCode, 403);
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${saId}?force=true`, headers })).statusCode, 403);
      assert.equal(await t.store.prisma.principal.count({ where: { orgId, kind: 'service_account' } }), 2);
    });

    test('a Verifier or a principal without roles may not read the directory (403): users, service accounts, role bindings', async () => {
      const orgId = await newOrg();
      const saId = await newSa(orgId, 'target');
      const verifier = await credentialFor(t, orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
      const roleless = await credentialFor(t, orgId, []);
      for (const who of [verifier, roleless]) {
        const headers = { authorization: who.authorization };
        for (const url of [
          `/v1/orgs/${orgId}/service-accounts`,
          `/v1/orgs/${orgId}/service-accounts/${saId}`,
          `/v1/orgs/${orgId}/users`,
          `/v1/orgs/${orgId}/role-bindings`,
          '/iam/v2/service-accounts',
        ]) {
          const res = await t.inject({ method: 'GET', url, headers });
          assert.equal(res.statusCode, 403, `${url}: ${res.body}`);
        }
      }
    });

    test('an OrganizationAdmin of another organization gets 404 on every route', async () => {
      const orgId = await newOrg();
      const saId = await newSa(orgId);
      const otherOrg = await newOrg();
      const outsider = await credentialFor(t, otherOrg, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const headers = { authorization: outsider.authorization };
      const routes: Array<{ method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object }> = [
        { method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, payload: { display_name: 'x' } },
        { method: 'GET', url: `/v1/orgs/${orgId}/service-accounts` },
        { method: 'GET', url: `/v1/orgs/${orgId}/service-accounts/${saId}` },
        { method: 'PATCH', url: `/v1/orgs/${orgId}/service-accounts/${saId}`, payload: { description: 'y' } },
        { method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${saId}?force=true` },
        { method: 'GET', url: `/v1/orgs/${otherOrg}/service-accounts/${saId}` },
        { method: 'DELETE', url: `/v1/orgs/${otherOrg}/service-accounts/${saId}?force=true` },
      ];
      for (const route of routes) assert.equal((await t.inject({ ...route, headers })).statusCode, 404, `${route.method} ${route.url}`);
      assert.equal(await t.store.prisma.principal.count({ where: { orgId } }), 1);
    });

    test('a key that just authenticated a request blocks deleting its owner, and deleting with force ends the key', async () => {
      const orgId = await newOrg();
      const sa = await credentialFor(t, orgId, []);
      const headers = { authorization: sa.authorization };
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers })).statusCode, 200);
      // last_used_at is written in batches shortly after the use.
      for (let i = 0; i < 50 && !(await t.store.prisma.apiKey.findUniqueOrThrow({ where: { id: sa.keyId } })).lastUsedAt; i++) await sleep(50);
      const url = `/v1/orgs/${orgId}/service-accounts/${sa.principalId}`;
      const res = await t.inject({ method: 'DELETE', url, headers: t.root });
      assert.equal(res.statusCode, 409);
      assert.deepEqual(res.json().key_ids, [sa.keyId]);
      assert.equal((await t.inject({ method: 'DELETE', url: `${url}?force=true`, headers: t.root })).statusCode, 204);
      const after = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers });
      assert.equal(after.statusCode, 401, 'the deleted key no longer authenticates');
    });
  });
});
