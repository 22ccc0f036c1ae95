import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newApiKeyId, newId } from '../../../src/crypto/tokens.js';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { environmentFixtures } from '../../helpers/environments.js';

describe('environments', () => {
  const t = suiteApp();
  const { newOrg, createEnv, newEnv, auditActions } = environmentFixtures(() => t);

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
    assert.deepEqual(
      bad
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
      ['colour', 'page_size'],
    );
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

  test('an environment whose Flink API keys are all revoked can be deleted; the revoked keys go with it', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const owner = await t.store.prisma.principal.create({ data: { id: newId('sa'), orgId, kind: 'service_account', displayName: uniqueName('sa') } });
    const keyId = newApiKeyId();
    await t.store.prisma.apiKey.create({
      data: {
        id: keyId,
        orgId,
        ownerId: owner.id,
        type: 'flink',
        environmentId: envId,
        cloud: 'aws',
        region: 'us-east-2',
        secretHash: '$argon2id$fixture',
        secretHint: 'abcd',
        status: 'revoked',
      },
    });
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/environments/${envId}`, headers: t.root });
    assert.equal(res.statusCode, 204, res.body);
    assert.equal(await t.store.prisma.environment.count({ where: { id: envId } }), 0);
    assert.equal(await t.store.prisma.apiKey.count({ where: { id: keyId } }), 0);
    assert.deepEqual(await auditActions(orgId, envId), ['environment.create', 'environment.delete']);
  });
});
