import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newApiKeyId } from '../../../src/crypto/tokens.js';
import { suiteApp } from '../../helpers/app.js';
import { userFixtures } from '../../helpers/principals.js';
import { paths } from '../../helpers/problems.js';

describe('users', () => {
  const t = suiteApp();
  const { newOrg, createUser, newUser } = userFixtures(() => t);

  test('create answers 201 with the user, email lower-cased, and writes an audit event', async () => {
    const orgId = await newOrg();
    const res = await createUser(orgId, { email: 'Ada.Lovelace@Example.COM', full_name: 'Ada Lovelace' });
    assert.equal(res.statusCode, 201);
    const user = res.json();
    assert.match(user.id, /^u-[a-z0-9]{10}$/);
    assert.equal(user.email, 'ada.lovelace@example.com');
    assert.equal(user.full_name, 'Ada Lovelace');
    assert.deepEqual(Object.keys(user).sort(), ['created_at', 'email', 'full_name', 'id', 'updated_at']);
    assert.equal((await t.store.prisma.principal.findUniqueOrThrow({ where: { id: user.id } })).kind, 'user');
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'user.create' } });
    assert.equal(event?.target, user.id);
    assert.deepEqual(event?.details, { email: 'ada.lovelace@example.com' });
  });

  test('list pages through the organization’s users, without its service accounts', async () => {
    const orgId = await newOrg();
    const ids = [await newUser(orgId), await newUser(orgId), await newUser(orgId)];
    await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, headers: t.root, payload: { display_name: 'robot' } });
    await newUser(await newOrg());
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const url: string = `/v1/orgs/${orgId}/users?page_size=2${token ? `&page_token=${token}` : ''}`;
      const res = await t.inject({ method: 'GET', url, headers: t.root });
      assert.equal(res.statusCode, 200);
      seen.push(...res.json().data.map((u: { id: string }) => u.id));
      token = res.json().next_page_token;
    } while (token);
    assert.deepEqual(seen.sort(), ids.sort());
  });

  test('get answers the user; another organization’s user, or a service account id, is 404', async () => {
    const orgId = await newOrg();
    const userId = await newUser(orgId, 'linus@example.com');
    const res = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/users/${userId}`, headers: t.root });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().email, 'linus@example.com');
    assert.equal(res.json().full_name, '');
    assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${await newOrg()}/users/${userId}`, headers: t.root })).statusCode, 404);
    const sa = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, headers: t.root, payload: { display_name: 'robot' } });
    const asUser = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/users/${sa.json().id}`, headers: t.root });
    assert.equal(asUser.statusCode, 404);
    assert.match(asUser.json().detail, /user sa-/);
    const deleteAsUser = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/users/${sa.json().id}`, headers: t.root });
    assert.equal(deleteAsUser.statusCode, 404);
    assert.equal(await t.store.prisma.principal.count({ where: { id: sa.json().id } }), 1);
  });

  test('patch updates email and full name and is audited; a taken email is 409', async () => {
    const orgId = await newOrg();
    await newUser(orgId, 'taken@example.com');
    const userId = await newUser(orgId, 'old@example.com');
    const url = `/v1/orgs/${orgId}/users/${userId}`;
    const res = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { email: 'New@Example.com', full_name: 'New Name' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().email, 'new@example.com');
    assert.equal(res.json().full_name, 'New Name');
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'user.update', target: userId } });
    assert.deepEqual(event?.details, { fields: ['email', 'full_name'] });
    const dup = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { email: 'TAKEN@example.com' } });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'name_taken');
    const bad = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { email: 'nope', id: 'u-x' } });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(paths(bad.json()), ['email', 'id']);
    assert.equal((await t.store.prisma.principal.findUniqueOrThrow({ where: { id: userId } })).email, 'new@example.com');
    const cross = await t.inject({ method: 'PATCH', url: `/v1/orgs/${await newOrg()}/users/${userId}`, headers: t.root, payload: { full_name: 'stolen' } });
    assert.equal(cross.statusCode, 404);
  });

  test('delete removes the user and its keys; recently used keys need ?force=true', async () => {
    const orgId = await newOrg();
    const userId = await newUser(orgId);
    const keyId = newApiKeyId();
    await t.store.prisma.apiKey.create({
      data: {
        id: keyId,
        orgId,
        ownerId: userId,
        type: 'cloud',
        secretHash: '$argon2id$fixture',
        secretHint: 'abcd',
        lastUsedAt: new Date(Date.now() - 60_000),
      },
    });
    const url = `/v1/orgs/${orgId}/users/${userId}`;
    const guarded = await t.inject({ method: 'DELETE', url, headers: t.root });
    assert.equal(guarded.statusCode, 409);
    assert.equal(guarded.json().code, 'recently_used');
    assert.deepEqual(guarded.json().key_ids, [keyId]);
    assert.equal(await t.store.prisma.principal.count({ where: { id: userId } }), 1);
    const res = await t.inject({ method: 'DELETE', url: `${url}?force=true`, headers: t.root });
    assert.equal(res.statusCode, 204);
    assert.equal(await t.store.prisma.principal.count({ where: { id: userId } }), 0);
    assert.equal(await t.store.prisma.apiKey.count({ where: { id: keyId } }), 0);
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'user.delete', target: userId } });
    assert.deepEqual(event?.details, { force: true, api_keys_deleted: [keyId], role_bindings_deleted: 0 });
    assert.equal((await t.inject({ method: 'DELETE', url, headers: t.root })).statusCode, 404);
  });
});
