import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { createCluster, createOrg } from '../../helpers/principals.js';
import { paths } from '../../helpers/problems.js';
import { roleBindingFixtures } from '../../helpers/role-bindings.js';

describe('role bindings', () => {
  const t = suiteApp();
  const { newSa, newUser, bind } = roleBindingFixtures(() => t);

  test('create binds a role on the organization: 201, stored with the org id as scope, audited', async () => {
    const orgId = await createOrg(t);
    const saId = await newSa(orgId);
    const res = await bind(orgId, { principal: saId, role: 'OrganizationAdmin', scope: { type: 'organization' } });
    assert.equal(res.statusCode, 201);
    const binding = res.json();
    assert.match(binding.id, /^rb-[a-z0-9]{10}$/);
    assert.deepEqual(
      { ...binding, id: undefined, created_at: undefined },
      { id: undefined, principal: saId, role: 'OrganizationAdmin', scope: { type: 'organization' }, created_at: undefined },
    );
    const row = await t.store.prisma.roleBinding.findUniqueOrThrow({ where: { id: binding.id } });
    assert.deepEqual([row.scopeType, row.scopeId, row.orgId], ['organization', orgId, orgId]);
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'role_binding.create' } });
    assert.equal(event?.target, binding.id);
    assert.deepEqual(event?.details, { principal: saId, role: 'OrganizationAdmin', scope_type: 'organization', scope_id: orgId });
  });

  test('create binds roles on an environment and on a resource, for users too', async () => {
    const orgId = await createOrg(t);
    const { environmentId, resourceId } = await createCluster(t, orgId);
    const userId = await newUser(orgId);
    const env = await bind(orgId, { principal: userId, role: 'EnvironmentAdmin', scope: { type: 'environment', id: environmentId } });
    assert.equal(env.statusCode, 201);
    assert.deepEqual(env.json().scope, { type: 'environment', id: environmentId });
    const resource = await bind(orgId, { principal: userId, role: 'DeveloperRead', scope: { type: 'resource', id: resourceId } });
    assert.equal(resource.statusCode, 201);
    assert.deepEqual(resource.json().scope, { type: 'resource', id: resourceId });
    assert.equal(await t.store.prisma.roleBinding.count({ where: { principalId: userId } }), 2);
  });

  test('list filters by principal and role and pages through this organization only', async () => {
    const orgId = await createOrg(t);
    const { environmentId } = await createCluster(t, orgId);
    const [a, b] = [await newSa(orgId), await newSa(orgId)];
    const ids = {
      aAdmin: (await bind(orgId, { principal: a, role: 'OrganizationAdmin', scope: { type: 'organization' } })).json().id,
      aOperator: (await bind(orgId, { principal: a, role: 'Operator', scope: { type: 'environment', id: environmentId } })).json().id,
      bOperator: (await bind(orgId, { principal: b, role: 'Operator', scope: { type: 'organization' } })).json().id,
    };
    const other = await createOrg(t);
    await bind(other, { principal: await newSa(other), role: 'Operator', scope: { type: 'organization' } });
    const list = async (query: string) => {
      const seen: string[] = [];
      let token: string | null = null;
      do {
        const url: string = `/v1/orgs/${orgId}/role-bindings?page_size=1${query}${token ? `&page_token=${token}` : ''}`;
        const res = await t.inject({ method: 'GET', url, headers: t.root });
        assert.equal(res.statusCode, 200);
        seen.push(...res.json().data.map((rb: { id: string }) => rb.id));
        token = res.json().next_page_token;
      } while (token);
      return seen.sort();
    };
    assert.deepEqual(await list(''), Object.values(ids).sort());
    assert.deepEqual(await list(`&principal=${a}`), [ids.aAdmin, ids.aOperator].sort());
    assert.deepEqual(await list('&role=Operator'), [ids.aOperator, ids.bOperator].sort());
    assert.deepEqual(await list(`&principal=${b}&role=OrganizationAdmin`), []);
    const bad = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/role-bindings?role=King`, headers: t.root });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(paths(bad.json()), ['role']);
  });

  test('get answers the binding; another organization’s binding is 404', async () => {
    const orgId = await createOrg(t);
    const { resourceId } = await createCluster(t, orgId);
    const saId = await newSa(orgId);
    const rb = (await bind(orgId, { principal: saId, role: 'CloudClusterAdmin', scope: { type: 'resource', id: resourceId } })).json();
    const res = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/role-bindings/${rb.id}`, headers: t.root });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), rb);
    const cross = await t.inject({ method: 'GET', url: `/v1/orgs/${await createOrg(t)}/role-bindings/${rb.id}`, headers: t.root });
    assert.equal(cross.statusCode, 404);
    assert.equal(cross.json().code, 'not_found');
  });

  test('delete removes the binding and is audited; another organization’s binding is 404', async () => {
    const orgId = await createOrg(t);
    const saId = await newSa(orgId);
    const rb = (await bind(orgId, { principal: saId, role: 'Verifier', scope: { type: 'organization' } })).json();
    const cross = await t.inject({ method: 'DELETE', url: `/v1/orgs/${await createOrg(t)}/role-bindings/${rb.id}`, headers: t.root });
    assert.equal(cross.statusCode, 404);
    assert.equal(await t.store.prisma.roleBinding.count({ where: { id: rb.id } }), 1);
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/role-bindings/${rb.id}`, headers: t.root });
    assert.equal(res.statusCode, 204);
    assert.equal(await t.store.prisma.roleBinding.count({ where: { id: rb.id } }), 0);
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'role_binding.delete', target: rb.id } });
    assert.deepEqual(event?.details, { principal: saId, role: 'Verifier', scope_type: 'organization', scope_id: orgId });
    assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/role-bindings/${rb.id}`, headers: t.root })).statusCode, 404);
  });
});
