import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { createCluster, createOrg, credentialFor } from '../../helpers/principals.js';
import { roleBindingFixtures } from '../../helpers/role-bindings.js';

describe('role bindings: security', () => {
  const t = suiteApp();
  const { newSa, bind } = roleBindingFixtures(() => t);

  test('every route answers 401 without a credential', async () => {
    const orgId = await createOrg(t);
    const saId = await newSa(orgId);
    const rb = (await bind(orgId, { principal: saId, role: 'Verifier', scope: { type: 'organization' } })).json();
    const routes: Array<{ method: 'GET' | 'POST' | 'DELETE'; url: string; payload?: object }> = [
      { method: 'POST', url: `/v1/orgs/${orgId}/role-bindings`, payload: { principal: saId, role: 'Operator', scope: { type: 'organization' } } },
      { method: 'GET', url: `/v1/orgs/${orgId}/role-bindings` },
      { method: 'GET', url: `/v1/orgs/${orgId}/role-bindings/${rb.id}` },
      { method: 'DELETE', url: `/v1/orgs/${orgId}/role-bindings/${rb.id}` },
    ];
    for (const route of routes) assert.equal((await t.inject(route)).statusCode, 401, `${route.method} ${route.url}`);
    assert.equal(await t.store.prisma.roleBinding.count({ where: { orgId } }), 1);
  });

  describe('with a principal’s cloud API key', () => {
    test('an EnvironmentAdmin binds roles in its environment only: elsewhere is 403', async () => {
      const orgId = await createOrg(t);
      const mine = await createCluster(t, orgId);
      const theirs = await createCluster(t, orgId);
      const admin = await credentialFor(t, orgId, [{ role: 'EnvironmentAdmin', scope: { type: 'environment', id: mine.environmentId } }]);
      const headers = { authorization: admin.authorization };
      const saId = await newSa(orgId);
      const inEnv = await bind(orgId, { principal: saId, role: 'DeveloperRead', scope: { type: 'environment', id: mine.environmentId } }, headers);
      assert.equal(inEnv.statusCode, 201);
      const onResource = await bind(orgId, { principal: saId, role: 'ResourceOwner', scope: { type: 'resource', id: mine.resourceId } }, headers);
      assert.equal(onResource.statusCode, 201, 'bindings on an environment cover its resources');
      const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'role_binding.create', target: inEnv.json().id } });
      assert.equal(event?.actor, admin.principalId);

      for (const scope of [{ type: 'environment', id: theirs.environmentId }, { type: 'resource', id: theirs.resourceId }, { type: 'organization' }]) {
        const role = scope.type === 'organization' ? 'OrganizationAdmin' : 'Operator';
        const res = await bind(orgId, { principal: saId, role, scope }, headers);
        assert.equal(res.statusCode, 403, scope.type);
        assert.equal(res.json().code, 'forbidden');
      }
      const adminBinding = await t.store.prisma.roleBinding.findFirstOrThrow({ where: { principalId: admin.principalId } });
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/role-bindings/${inEnv.json().id}`, headers })).statusCode, 204);
      const rootMade = (await bind(orgId, { principal: saId, role: 'Operator', scope: { type: 'environment', id: theirs.environmentId } })).json();
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/role-bindings/${rootMade.id}`, headers })).statusCode, 403);
      assert.equal(await t.store.prisma.roleBinding.count({ where: { id: { in: [rootMade.id, adminBinding.id] } } }), 2);
    });

    test('any member may read bindings; a DeveloperRead may not create or delete them (403)', async () => {
      const orgId = await createOrg(t);
      const { environmentId } = await createCluster(t, orgId);
      const dev = await credentialFor(t, orgId, [{ role: 'DeveloperRead', scope: { type: 'environment', id: environmentId } }]);
      const headers = { authorization: dev.authorization };
      const list = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/role-bindings?principal=${dev.principalId}`, headers });
      assert.equal(list.statusCode, 200);
      assert.equal(list.json().data.length, 1);
      const own = list.json().data[0];
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/role-bindings/${own.id}`, headers })).statusCode, 200);
      const create = await bind(orgId, { principal: dev.principalId, role: 'EnvironmentAdmin', scope: { type: 'environment', id: environmentId } }, headers);
      assert.equal(create.statusCode, 403);
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/role-bindings/${own.id}`, headers })).statusCode, 403);
      assert.equal(await t.store.prisma.roleBinding.count({ where: { principalId: dev.principalId } }), 1);
    });

    test('an OrganizationAdmin of another organization gets 404 on every route', async () => {
      const orgId = await createOrg(t);
      const rb = (await bind(orgId, { principal: await newSa(orgId), role: 'Verifier', scope: { type: 'organization' } })).json();
      const otherOrg = await createOrg(t);
      const outsider = await credentialFor(t, otherOrg, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const headers = { authorization: outsider.authorization };
      const routes: Array<{ method: 'GET' | 'POST' | 'DELETE'; url: string; payload?: object }> = [
        {
          method: 'POST',
          url: `/v1/orgs/${orgId}/role-bindings`,
          payload: { principal: outsider.principalId, role: 'OrganizationAdmin', scope: { type: 'organization' } },
        },
        { method: 'GET', url: `/v1/orgs/${orgId}/role-bindings` },
        { method: 'GET', url: `/v1/orgs/${orgId}/role-bindings/${rb.id}` },
        { method: 'DELETE', url: `/v1/orgs/${orgId}/role-bindings/${rb.id}` },
        { method: 'GET', url: `/v1/orgs/${otherOrg}/role-bindings/${rb.id}` },
        { method: 'DELETE', url: `/v1/orgs/${otherOrg}/role-bindings/${rb.id}` },
      ];
      for (const route of routes) {
        const res = await t.inject({ ...route, headers });
        assert.equal(res.statusCode, 404, `${route.method} ${route.url}`);
      }
      assert.equal(await t.store.prisma.roleBinding.count({ where: { orgId } }), 1);
    });

    test('a deleted binding stops granting on the principal’s next request', async () => {
      const orgId = await createOrg(t);
      const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const headers = { authorization: admin.authorization };
      const saId = await newSa(orgId);
      assert.equal((await bind(orgId, { principal: saId, role: 'Verifier', scope: { type: 'organization' } }, headers)).statusCode, 201);
      const own = await t.store.prisma.roleBinding.findFirstOrThrow({ where: { principalId: admin.principalId } });
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/role-bindings/${own.id}`, headers: t.root })).statusCode, 204);
      const after = await bind(orgId, { principal: saId, role: 'Operator', scope: { type: 'organization' } }, headers);
      assert.equal(after.statusCode, 403);
    });
  });
});
