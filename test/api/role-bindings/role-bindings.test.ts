import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, uniqueName, type TestApp } from '../../helpers/app.js';
import { createCluster, createOrg, credentialFor } from '../../helpers/principals.js';

describe('role bindings', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const newSa = async (orgId: string): Promise<string> => {
    const res = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, headers: t.root, payload: { display_name: uniqueName('sa') } });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  const newUser = async (orgId: string): Promise<string> => {
    const res = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/users`, headers: t.root, payload: { email: `${uniqueName('u')}@example.com` } });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  const bind = (orgId: string, body: unknown, headers: Record<string, string> = t.root) =>
    t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/role-bindings`, headers, payload: body as object });
  const paths = (body: { errors: Array<{ path: string }> }) => body.errors.map((e) => e.path).sort();

  test('create binds a role on the organization: 201, stored with the org id as scope, audited', async () => {
    const orgId = await createOrg(t);
    const saId = await newSa(orgId);
    const res = await bind(orgId, { principal: saId, role: 'OrganizationAdmin', scope: { type: 'organization' } });
    assert.equal(res.statusCode, 201);
    const binding = res.json();
    assert.match(binding.id, /^rb-[a-z0-9]{10}$/);
    assert.deepEqual({ ...binding, id: undefined, created_at: undefined }, { id: undefined, principal: saId, role: 'OrganizationAdmin', scope: { type: 'organization' }, created_at: undefined });
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

  test('there is no PATCH: a binding is deleted and created again', async () => {
    const orgId = await createOrg(t);
    const rb = (await bind(orgId, { principal: await newSa(orgId), role: 'Verifier', scope: { type: 'organization' } })).json();
    const res = await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/role-bindings/${rb.id}`, headers: t.root, payload: { role: 'Operator' } });
    assert.equal(res.statusCode, 404);
    assert.equal((await t.store.prisma.roleBinding.findUniqueOrThrow({ where: { id: rb.id } })).role, 'Verifier');
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
        { method: 'POST', url: `/v1/orgs/${orgId}/role-bindings`, payload: { principal: outsider.principalId, role: 'OrganizationAdmin', scope: { type: 'organization' } } },
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
