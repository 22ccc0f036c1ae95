import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newApiKeyId, newId } from '../../../src/crypto/tokens.js';
import { startTestApp, uniqueName, type TestApp } from '../../helpers/app.js';
import { credentialFor } from '../../helpers/principals.js';

describe('environments', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const newOrg = async (): Promise<string> => {
    const res = await t.inject({ method: 'POST', url: '/v1/orgs', headers: t.root, payload: { name: uniqueName('env') } });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  const createEnv = (orgId: string, body: unknown) =>
    t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: t.root, payload: body as object });
  const createEnvAs = (orgId: string, headers: Record<string, string>) =>
    t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers, payload: { display_name: uniqueName('env') } });
  const newEnv = async (orgId: string, displayName = uniqueName('env')): Promise<string> => {
    const res = await createEnv(orgId, { display_name: displayName });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  const auditActions = async (orgId: string, target: string) =>
    (await t.store.prisma.auditEvent.findMany({ where: { orgId, target }, orderBy: { id: 'asc' } })).map((e) => e.action);

  test('create answers 201 with the environment and writes an audit event', async () => {
    const orgId = await newOrg();
    const res = await createEnv(orgId, { display_name: 'production' });
    assert.equal(res.statusCode, 201);
    const env = res.json();
    assert.match(env.id, /^env-[a-z0-9]{10}$/);
    assert.equal(env.display_name, 'production');
    assert.deepEqual(Object.keys(env).sort(), ['created_at', 'display_name', 'id', 'updated_at']);
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'environment.create' } });
    assert.equal(event?.target, env.id);
    assert.equal(event?.actor, 'root');
    assert.equal(event?.requestId, res.headers['x-request-id']);
  });

  test('a display name already used in the organization is 409 name_taken; another organization may reuse it', async () => {
    const orgId = await newOrg();
    await newEnv(orgId, 'staging');
    const dup = await createEnv(orgId, { display_name: 'staging' });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'name_taken');
    assert.match(dup.json().detail, /staging/);
    assert.equal(await t.store.prisma.environment.count({ where: { orgId } }), 1);
    assert.equal((await createEnv(await newOrg(), { display_name: 'staging' })).statusCode, 201);
  });

  test('invalid bodies are 422 naming every bad field, and create nothing', async () => {
    const orgId = await newOrg();
    const res = await createEnv(orgId, { display_name: '', colour: 'red' });
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().code, 'validation_failed');
    assert.deepEqual(res.json().errors.map((e: { path: string }) => e.path).sort(), ['colour', 'display_name']);
    const missing = await createEnv(orgId, {});
    assert.equal(missing.statusCode, 422);
    assert.deepEqual(missing.json().errors.map((e: { path: string }) => e.path), ['display_name']);
    assert.equal(await t.store.prisma.environment.count({ where: { orgId } }), 0);
  });

  test('an unknown organization is 404', async () => {
    const res = await createEnv('org-doesnotexist', { display_name: 'x' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'not_found');
  });

  test('every route answers 401 without a credential', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const routes: Array<{ method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object }> = [
      { method: 'POST', url: `/v1/orgs/${orgId}/environments`, payload: { display_name: 'x' } },
      { method: 'GET', url: `/v1/orgs/${orgId}/environments` },
      { method: 'GET', url: `/v1/orgs/${orgId}/environments/${envId}` },
      { method: 'PATCH', url: `/v1/orgs/${orgId}/environments/${envId}`, payload: { display_name: 'y' } },
      { method: 'DELETE', url: `/v1/orgs/${orgId}/environments/${envId}` },
    ];
    for (const route of routes) {
      const res = await t.inject(route);
      assert.equal(res.statusCode, 401, `${route.method} ${route.url}`);
      assert.match(String(res.headers['www-authenticate']), /Basic/);
    }
    assert.equal(await t.store.prisma.environment.count({ where: { orgId } }), 1);
  });

  test('list pages through the organization’s environments only', async () => {
    const orgId = await newOrg();
    const ids = [await newEnv(orgId), await newEnv(orgId), await newEnv(orgId)];
    await newEnv(await newOrg());
    const seen: string[] = [];
    let token: string | null = null;
    do {
      const url: string = `/v1/orgs/${orgId}/environments?page_size=2${token ? `&page_token=${token}` : ''}`;
      const res = await t.inject({ method: 'GET', url, headers: t.root });
      assert.equal(res.statusCode, 200);
      assert.ok(res.json().data.length <= 2);
      seen.push(...res.json().data.map((e: { id: string }) => e.id));
      token = res.json().next_page_token;
    } while (token);
    assert.deepEqual(seen.sort(), ids.sort());
    const bad = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/environments?page_size=0&colour=red`, headers: t.root });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(bad.json().errors.map((e: { path: string }) => e.path).sort(), ['colour', 'page_size']);
  });

  test('get answers the environment; another organization’s environment is 404', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId, 'dev');
    const res = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/environments/${envId}`, headers: t.root });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().id, envId);
    assert.equal(res.json().display_name, 'dev');
    const otherOrg = await newOrg();
    const cross = await t.inject({ method: 'GET', url: `/v1/orgs/${otherOrg}/environments/${envId}`, headers: t.root });
    assert.equal(cross.statusCode, 404);
    assert.match(cross.json().detail, new RegExp(envId));
    const missing = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/environments/env-missing`, headers: t.root });
    assert.equal(missing.statusCode, 404);
  });

  test('patch renames the environment and is audited', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId, 'old');
    const before = await t.store.prisma.environment.findUniqueOrThrow({ where: { id: envId } });
    const res = await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/environments/${envId}`, headers: t.root, payload: { display_name: 'new' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().display_name, 'new');
    assert.ok(new Date(res.json().updated_at) >= before.updatedAt);
    assert.equal((await t.store.prisma.environment.findUniqueOrThrow({ where: { id: envId } })).displayName, 'new');
    assert.deepEqual(await auditActions(orgId, envId), ['environment.create', 'environment.update']);
  });

  test('an empty patch changes nothing and writes no audit event', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId, 'same');
    const before = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/environments/${envId}`, headers: t.root });
    const res = await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/environments/${envId}`, headers: t.root, payload: {} });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), before.json());
    assert.deepEqual(await auditActions(orgId, envId), ['environment.create']);
  });

  test('patch to a name in use is 409, unknown fields 422, another organization’s environment 404', async () => {
    const orgId = await newOrg();
    await newEnv(orgId, 'taken');
    const envId = await newEnv(orgId, 'mine');
    const url = `/v1/orgs/${orgId}/environments/${envId}`;
    const dup = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { display_name: 'taken' } });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'name_taken');
    const bad = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { display_name: '', id: 'env-x' } });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(bad.json().errors.map((e: { path: string }) => e.path).sort(), ['display_name', 'id']);
    const cross = await t.inject({ method: 'PATCH', url: `/v1/orgs/${await newOrg()}/environments/${envId}`, headers: t.root, payload: { display_name: 'stolen' } });
    assert.equal(cross.statusCode, 404);
    assert.equal((await t.store.prisma.environment.findUniqueOrThrow({ where: { id: envId } })).displayName, 'mine');
    assert.deepEqual(await auditActions(orgId, envId), ['environment.create']);
  });

  test('delete removes an empty environment with the role bindings on it, and is audited', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const keepId = await newEnv(orgId);
    const principal = await t.store.prisma.principal.create({ data: { id: newId('sa'), orgId, kind: 'service_account', displayName: uniqueName('sa') } });
    await t.store.prisma.roleBinding.createMany({
      data: [
        { id: newId('rb'), orgId, principalId: principal.id, role: 'EnvironmentAdmin', scopeType: 'environment', scopeId: envId },
        { id: newId('rb'), orgId, principalId: principal.id, role: 'EnvironmentAdmin', scopeType: 'environment', scopeId: keepId },
      ],
    });
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/environments/${envId}`, headers: t.root });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assert.equal(await t.store.prisma.environment.count({ where: { id: envId } }), 0);
    assert.equal(await t.store.prisma.roleBinding.count({ where: { scopeId: envId } }), 0);
    assert.equal(await t.store.prisma.roleBinding.count({ where: { scopeId: keepId } }), 1);
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'environment.delete', target: envId } });
    assert.deepEqual(event?.details, { role_bindings_deleted: 1 });
    const again = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/environments/${envId}`, headers: t.root });
    assert.equal(again.statusCode, 404);
  });

  test('delete of an environment holding resources is 409 not_empty naming them', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const resource = await t.store.prisma.resource.create({ data: { id: newId('lkc'), orgId, environmentId: envId, kind: 'kafka_cluster', displayName: 'orders' } });
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/environments/${envId}`, headers: t.root });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'not_empty');
    assert.match(res.json().detail, new RegExp(`1 resource\\(s\\) \\(${resource.id}\\)`));
    assert.match(res.json().detail, /delete them first/);
    assert.equal(await t.store.prisma.environment.count({ where: { id: envId } }), 1);
    assert.equal(await t.store.prisma.resource.count({ where: { environmentId: envId } }), 1);
  });

  test('delete of an environment holding Flink API keys is 409 not_empty naming the keys', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const owner = await t.store.prisma.principal.create({ data: { id: newId('sa'), orgId, kind: 'service_account', displayName: uniqueName('sa') } });
    const keyId = newApiKeyId();
    await t.store.prisma.apiKey.create({
      data: { id: keyId, orgId, ownerId: owner.id, type: 'flink', environmentId: envId, cloud: 'aws', region: 'us-east-2', secretHash: '$argon2id$fixture', secretHint: 'abcd' },
    });
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/environments/${envId}`, headers: t.root });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'not_empty');
    assert.match(res.json().detail, new RegExp(`1 API key\\(s\\) \\(${keyId}\\)`));
    assert.equal(await t.store.prisma.apiKey.count({ where: { id: keyId } }), 1);
    assert.deepEqual(await auditActions(orgId, envId), ['environment.create']);
  });

  test('an environment whose Flink API keys are all revoked can be deleted; the revoked keys go with it', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const owner = await t.store.prisma.principal.create({ data: { id: newId('sa'), orgId, kind: 'service_account', displayName: uniqueName('sa') } });
    const keyId = newApiKeyId();
    await t.store.prisma.apiKey.create({
      data: { id: keyId, orgId, ownerId: owner.id, type: 'flink', environmentId: envId, cloud: 'aws', region: 'us-east-2', secretHash: '$argon2id$fixture', secretHint: 'abcd', status: 'revoked', revokedAt: new Date() },
    });
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/environments/${envId}`, headers: t.root });
    assert.equal(res.statusCode, 204, res.body);
    assert.equal(await t.store.prisma.environment.count({ where: { id: envId } }), 0);
    assert.equal(await t.store.prisma.apiKey.count({ where: { id: keyId } }), 0);
    assert.deepEqual(await auditActions(orgId, envId), ['environment.create', 'environment.delete']);
  });

  test('delete of another organization’s environment is 404 and deletes nothing', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${await newOrg()}/environments/${envId}`, headers: t.root });
    assert.equal(res.statusCode, 404);
    assert.equal(await t.store.prisma.environment.count({ where: { id: envId } }), 1);
  });

  describe('with a principal’s cloud API key', () => {
    test('an OrganizationAdmin creates environments, and the audit trail names it', async () => {
      const orgId = await newOrg();
      const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const res = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: { authorization: admin.authorization }, payload: { display_name: 'prod' } });
      assert.equal(res.statusCode, 201);
      const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'environment.create', target: res.json().id } });
      assert.equal(event?.actor, admin.principalId);
    });

    test('an EnvironmentAdmin renames and deletes its environment only, and may not create one (403)', async () => {
      const orgId = await newOrg();
      const [mine, theirs] = [await newEnv(orgId), await newEnv(orgId)];
      const admin = await credentialFor(t, orgId, [{ role: 'EnvironmentAdmin', scope: { type: 'environment', id: mine } }]);
      const headers = { authorization: admin.authorization };
      const rename = await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/environments/${mine}`, headers, payload: { display_name: 'renamed' } });
      assert.equal(rename.statusCode, 200);
      const other = await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/environments/${theirs}`, headers, payload: { display_name: 'stolen' } });
      assert.equal(other.statusCode, 403);
      assert.equal(other.json().code, 'forbidden');
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/environments/${theirs}`, headers })).statusCode, 403);
      assert.equal((await createEnvAs(orgId, headers)).statusCode, 403);
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/environments/${mine}`, headers })).statusCode, 204);
      assert.equal(await t.store.prisma.environment.count({ where: { orgId } }), 1);
      assert.equal(await t.store.prisma.roleBinding.count({ where: { principalId: admin.principalId } }), 0, 'its binding on the deleted environment went with it');
    });

    test('a member with a Developer role reads environments but may not change them (403)', async () => {
      const orgId = await newOrg();
      const envId = await newEnv(orgId);
      const dev = await credentialFor(t, orgId, [{ role: 'DeveloperRead', scope: { type: 'environment', id: envId } }]);
      const headers = { authorization: dev.authorization };
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/environments`, headers })).statusCode, 200);
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/environments/${envId}`, headers })).statusCode, 200);
      assert.equal((await createEnvAs(orgId, headers)).statusCode, 403);
      assert.equal((await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/environments/${envId}`, headers, payload: { display_name: 'x' } })).statusCode, 403);
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/environments/${envId}`, headers })).statusCode, 403);
      assert.equal(await t.store.prisma.environment.count({ where: { orgId } }), 1);
    });

    test('an OrganizationAdmin of another organization gets 404 on every route', async () => {
      const orgId = await newOrg();
      const envId = await newEnv(orgId);
      const otherOrg = await newOrg();
      const outsider = await credentialFor(t, otherOrg, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const headers = { authorization: outsider.authorization };
      const routes: Array<{ method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object }> = [
        { method: 'POST', url: `/v1/orgs/${orgId}/environments`, payload: { display_name: 'x' } },
        { method: 'GET', url: `/v1/orgs/${orgId}/environments` },
        { method: 'GET', url: `/v1/orgs/${orgId}/environments/${envId}` },
        { method: 'PATCH', url: `/v1/orgs/${orgId}/environments/${envId}`, payload: { display_name: 'y' } },
        { method: 'DELETE', url: `/v1/orgs/${orgId}/environments/${envId}` },
        { method: 'GET', url: `/v1/orgs/${otherOrg}/environments/${envId}` },
        { method: 'PATCH', url: `/v1/orgs/${otherOrg}/environments/${envId}`, payload: { display_name: 'y' } },
        { method: 'DELETE', url: `/v1/orgs/${otherOrg}/environments/${envId}` },
      ];
      for (const route of routes) assert.equal((await t.inject({ ...route, headers })).statusCode, 404, `${route.method} ${route.url}`);
      const env = await t.store.prisma.environment.findUniqueOrThrow({ where: { id: envId } });
      assert.notEqual(env.displayName, 'y');
      assert.equal(await t.store.prisma.environment.count({ where: { orgId } }), 1);
    });
  });
});
