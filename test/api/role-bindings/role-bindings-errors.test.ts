import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { createCluster, createOrg } from '../../helpers/principals.js';
import { paths } from '../../helpers/problems.js';
import { roleBindingFixtures } from '../../helpers/role-bindings.js';

describe('role bindings: errors', () => {
  const t = suiteApp();
  const { newSa, bind } = roleBindingFixtures(() => t);

  test('a role on a scope it cannot have is 422 naming role', async () => {
    const orgId = await createOrg(t);
    const { environmentId, resourceId } = await createCluster(t, orgId);
    const saId = await newSa(orgId);
    const cases = [
      { role: 'OrganizationAdmin', scope: { type: 'environment', id: environmentId } },
      { role: 'EnvironmentAdmin', scope: { type: 'organization' } },
      { role: 'CloudClusterAdmin', scope: { type: 'environment', id: environmentId } },
      { role: 'DeveloperRead', scope: { type: 'organization' } },
      { role: 'Verifier', scope: { type: 'resource', id: resourceId } },
    ];
    for (const { role, scope } of cases) {
      const res = await bind(orgId, { principal: saId, role, scope });
      assert.equal(res.statusCode, 422, `${role} on ${scope.type}`);
      assert.equal(res.json().code, 'validation_failed');
      assert.deepEqual(paths(res.json()), ['role']);
      assert.match(res.json().detail, new RegExp(`${role} can be bound only on .* scope, not on ${scope.type} scope`));
    }
    assert.equal(await t.store.prisma.roleBinding.count({ where: { orgId } }), 0);
  });

  test('a principal, environment or resource outside the organization is 422 naming each field', async () => {
    const orgId = await createOrg(t);
    const otherOrg = await createOrg(t);
    const foreignSa = await newSa(otherOrg);
    const foreign = await createCluster(t, otherOrg);
    const env = await bind(orgId, { principal: foreignSa, role: 'EnvironmentAdmin', scope: { type: 'environment', id: foreign.environmentId } });
    assert.equal(env.statusCode, 422);
    assert.deepEqual(paths(env.json()), ['principal', 'scope.id']);
    assert.match(env.json().detail, new RegExp(`${foreignSa} is not a service account or user of organization ${orgId}`));
    assert.match(env.json().detail, new RegExp(`${foreign.environmentId} is not an environment of organization ${orgId}`));
    const saId = await newSa(orgId);
    const resource = await bind(orgId, { principal: saId, role: 'ResourceOwner', scope: { type: 'resource', id: foreign.resourceId } });
    assert.equal(resource.statusCode, 422);
    assert.deepEqual(paths(resource.json()), ['scope.id']);
    const all = await bind(orgId, { principal: 'sa-missing', role: 'OrganizationAdmin', scope: { type: 'resource', id: 'lkc-missing' } });
    assert.deepEqual(paths(all.json()), ['principal', 'role', 'scope.id']);
    assert.equal(await t.store.prisma.roleBinding.count({ where: { orgId } }), 0);
  });

  test('malformed bodies are 422 listing every bad field', async () => {
    const orgId = await createOrg(t);
    const res = await bind(orgId, { principal: 'org-1', role: 'King', scope: { type: 'galaxy' }, extra: true });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(paths(res.json()), ['extra', 'principal', 'role', 'scope.type']);
    const missingId = await bind(orgId, { principal: 'sa-x', role: 'Operator', scope: { type: 'environment' } });
    assert.deepEqual(paths(missingId.json()), ['scope.id']);
    const orgWithId = await bind(orgId, { principal: 'sa-x', role: 'Operator', scope: { type: 'organization', id: orgId } });
    assert.deepEqual(paths(orgWithId.json()), ['scope.id']);
    const wrongPrefix = await bind(orgId, { principal: 'sa-x', role: 'Operator', scope: { type: 'resource', id: 'env-abc' } });
    assert.deepEqual(paths(wrongPrefix.json()), ['scope.id']);
    assert.deepEqual(paths((await bind(orgId, {})).json()), ['principal', 'role', 'scope']);
  });

  test('the same binding twice is 409 conflict naming the existing binding', async () => {
    const orgId = await createOrg(t);
    const saId = await newSa(orgId);
    const body = { principal: saId, role: 'Operator', scope: { type: 'organization' } };
    const first = await bind(orgId, body);
    assert.equal(first.statusCode, 201);
    const dup = await bind(orgId, body);
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'conflict');
    assert.match(dup.json().detail, new RegExp(`${saId} already holds Operator on the organization \\(role binding ${first.json().id}\\)`));
    assert.equal(await t.store.prisma.roleBinding.count({ where: { principalId: saId } }), 1);
    assert.equal(await t.store.prisma.auditEvent.count({ where: { orgId, action: 'role_binding.create' } }), 1);
  });

  test('there is no PATCH: a binding is deleted and created again', async () => {
    const orgId = await createOrg(t);
    const rb = (await bind(orgId, { principal: await newSa(orgId), role: 'Verifier', scope: { type: 'organization' } })).json();
    const res = await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/role-bindings/${rb.id}`, headers: t.root, payload: { role: 'Operator' } });
    assert.equal(res.statusCode, 404);
    assert.equal((await t.store.prisma.roleBinding.findUniqueOrThrow({ where: { id: rb.id } })).role, 'Verifier');
  });
});
