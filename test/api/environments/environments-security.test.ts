import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { environmentFixtures } from '../../helpers/environments.js';
import { credentialFor } from '../../helpers/principals.js';

describe('environments: security', () => {
  const t = suiteApp();
  const { newOrg, createEnvAs, newEnv } = environmentFixtures(() => t);

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
      const res = await t.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/environments`,
        headers: { authorization: admin.authorization },
        payload: { display_name: 'prod' },
      });
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
      assert.equal(
        await t.store.prisma.roleBinding.count({ where: { principalId: admin.principalId } }),
        0,
        'its binding on the deleted environment went with it',
      );
    });

    test('a member with a Developer role reads environments but may not change them (403)', async () => {
      const orgId = await newOrg();
      const envId = await newEnv(orgId);
      const dev = await credentialFor(t, orgId, [{ role: 'DeveloperRead', scope: { type: 'environment', id: envId } }]);
      const headers = { authorization: dev.authorization };
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/environments`, headers })).statusCode, 200);
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/environments/${envId}`, headers })).statusCode, 200);
      assert.equal((await createEnvAs(orgId, headers)).statusCode, 403);
      assert.equal(
        (await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/environments/${envId}`, headers, payload: { display_name: 'x' } })).statusCode,
        403,
      );
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
