import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { credentialFor, userFixtures } from '../../helpers/principals.js';

describe('users: security', () => {
  const t = suiteApp();
  const { newOrg, newUser } = userFixtures(() => t);

  test('every route answers 401 without a credential', async () => {
    const orgId = await newOrg();
    const userId = await newUser(orgId);
    const routes: Array<{ method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object }> = [
      { method: 'POST', url: `/v1/orgs/${orgId}/users`, payload: { email: 'x@example.com' } },
      { method: 'GET', url: `/v1/orgs/${orgId}/users` },
      { method: 'GET', url: `/v1/orgs/${orgId}/users/${userId}` },
      { method: 'PATCH', url: `/v1/orgs/${orgId}/users/${userId}`, payload: { full_name: 'y' } },
      { method: 'DELETE', url: `/v1/orgs/${orgId}/users/${userId}` },
    ];
    for (const route of routes) assert.equal((await t.inject(route)).statusCode, 401, `${route.method} ${route.url}`);
    assert.equal(await t.store.prisma.principal.count({ where: { orgId } }), 1);
  });

  test('delete of another organization’s user is 404 and deletes nothing', async () => {
    const orgId = await newOrg();
    const userId = await newUser(orgId);
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${await newOrg()}/users/${userId}?force=true`, headers: t.root });
    assert.equal(res.statusCode, 404);
    assert.equal(await t.store.prisma.principal.count({ where: { id: userId } }), 1);
  });

  describe('with a principal’s cloud API key', () => {
    test('an OrganizationAdmin creates users, and the audit trail names it', async () => {
      const orgId = await newOrg();
      const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const res = await t.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/users`,
        headers: { authorization: admin.authorization },
        payload: { email: 'new@example.com' },
      });
      assert.equal(res.statusCode, 201);
      const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'user.create', target: res.json().id } });
      assert.equal(event?.actor, admin.principalId);
    });

    test('an Operator on the organization reads users but may not create, change or delete them (403)', async () => {
      const orgId = await newOrg();
      const operator = await credentialFor(t, orgId, [{ role: 'Operator', scope: { type: 'organization' } }]);
      const headers = { authorization: operator.authorization };
      const userId = await newUser(orgId);
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/users`, headers })).json().data.length, 1);
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/users/${userId}`, headers })).statusCode, 200);
      assert.equal((await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/users`, headers, payload: { email: 'x@example.com' } })).statusCode, 403);
      assert.equal((await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/users/${userId}`, headers, payload: { full_name: 'x' } })).statusCode, 403);
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/users/${userId}`, headers })).statusCode, 403);
      assert.equal(await t.store.prisma.principal.count({ where: { orgId, kind: 'user' } }), 1);
    });

    test('an OrganizationAdmin of another organization gets 404 on every route', async () => {
      const orgId = await newOrg();
      const userId = await newUser(orgId);
      const otherOrg = await newOrg();
      const outsider = await credentialFor(t, otherOrg, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const headers = { authorization: outsider.authorization };
      const routes: Array<{ method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object }> = [
        { method: 'POST', url: `/v1/orgs/${orgId}/users`, payload: { email: 'x@example.com' } },
        { method: 'GET', url: `/v1/orgs/${orgId}/users` },
        { method: 'GET', url: `/v1/orgs/${orgId}/users/${userId}` },
        { method: 'PATCH', url: `/v1/orgs/${orgId}/users/${userId}`, payload: { full_name: 'y' } },
        { method: 'DELETE', url: `/v1/orgs/${orgId}/users/${userId}?force=true` },
        { method: 'GET', url: `/v1/orgs/${otherOrg}/users/${userId}` },
        { method: 'DELETE', url: `/v1/orgs/${otherOrg}/users/${userId}?force=true` },
      ];
      for (const route of routes) assert.equal((await t.inject({ ...route, headers })).statusCode, 404, `${route.method} ${route.url}`);
      assert.equal(await t.store.prisma.principal.count({ where: { orgId } }), 1);
    });
  });
});
