import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newId } from '../../../src/crypto/tokens.js';
import { suiteApp } from '../../helpers/app.js';
import { serviceAccountFixtures } from '../../helpers/principals.js';
import { paths } from '../../helpers/problems.js';

describe('service accounts', () => {
  const t = suiteApp();
  const { newOrg, createSa, newSa, addKey, hoursAgo } = serviceAccountFixtures(() => t);

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

  test('delete removes the service account with its keys and role bindings, and drops the keys from caches', async () => {
    const orgId = await newOrg();
    const saId = await newSa(orgId);
    const keys = [await addKey(orgId, saId), await addKey(orgId, saId, { lastUsedAt: hoursAgo(30) })].sort();
    await t.store.prisma.roleBinding.create({
      data: { id: newId('rb'), orgId, principalId: saId, role: 'OrganizationAdmin', scopeType: 'organization', scopeId: orgId },
    });
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
});
