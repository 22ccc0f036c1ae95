import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { credentialFor } from '../../helpers/principals.js';
import { resourceFixtures } from '../../helpers/resources.js';

describe('resources: security', () => {
  const t = suiteApp();
  const { newOrg, newEnv, newResource } = resourceFixtures(() => t);

  test('every route answers 401 without a credential', async () => {
    const orgId = await newOrg();
    const resourceId = await newResource(orgId, await newEnv(orgId));
    const routes: Array<{ method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object }> = [
      { method: 'POST', url: `/v1/orgs/${orgId}/resources`, payload: { kind: 'kafka_cluster', display_name: 'x', environment_id: 'env-x' } },
      { method: 'GET', url: `/v1/orgs/${orgId}/resources` },
      { method: 'GET', url: `/v1/orgs/${orgId}/resources/${resourceId}` },
      { method: 'PATCH', url: `/v1/orgs/${orgId}/resources/${resourceId}`, payload: { display_name: 'y' } },
      { method: 'DELETE', url: `/v1/orgs/${orgId}/resources/${resourceId}` },
    ];
    for (const route of routes) {
      const res = await t.inject(route);
      assert.equal(res.statusCode, 401, `${route.method} ${route.url}`);
    }
    assert.equal(await t.store.prisma.resource.count({ where: { orgId } }), 1);
  });

  test('patch of another organization’s resource is 404', async () => {
    const orgId = await newOrg();
    const resourceId = await newResource(orgId, await newEnv(orgId));
    const res = await t.inject({
      method: 'PATCH',
      url: `/v1/orgs/${await newOrg()}/resources/${resourceId}`,
      headers: t.root,
      payload: { display_name: 'stolen' },
    });
    assert.equal(res.statusCode, 404);
    assert.notEqual((await t.store.prisma.resource.findUniqueOrThrow({ where: { id: resourceId } })).displayName, 'stolen');
  });

  test('delete of another organization’s resource is 404 and deletes nothing', async () => {
    const orgId = await newOrg();
    const resourceId = await newResource(orgId, await newEnv(orgId));
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${await newOrg()}/resources/${resourceId}`, headers: t.root });
    assert.equal(res.statusCode, 404);
    assert.equal(await t.store.prisma.resource.count({ where: { id: resourceId } }), 1);
  });

  describe('with a principal’s cloud API key', () => {
    test('an EnvironmentAdmin creates and manages resources in its environment only (elsewhere 403)', async () => {
      const orgId = await newOrg();
      const [mine, theirs] = [await newEnv(orgId), await newEnv(orgId)];
      const admin = await credentialFor(t, orgId, [{ role: 'EnvironmentAdmin', scope: { type: 'environment', id: mine } }]);
      const headers = { authorization: admin.authorization };
      const created = await t.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/resources`,
        headers,
        payload: { kind: 'kafka_cluster', display_name: 'orders', environment_id: mine },
      });
      assert.equal(created.statusCode, 201);
      const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'resource.create', target: created.json().id } });
      assert.equal(event?.actor, admin.principalId);
      const elsewhere = await t.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/resources`,
        headers,
        payload: { kind: 'kafka_cluster', display_name: 'x', environment_id: theirs },
      });
      assert.equal(elsewhere.statusCode, 403);
      const theirResource = await newResource(orgId, theirs);
      assert.equal(
        (await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/resources/${theirResource}`, headers, payload: { display_name: 'x' } })).statusCode,
        403,
      );
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/resources/${theirResource}`, headers })).statusCode, 403);
      assert.equal(
        (await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/resources/${created.json().id}`, headers, payload: { region: 'us-west-2' } })).statusCode,
        200,
      );
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/resources/${created.json().id}`, headers })).statusCode, 204);
      assert.deepEqual(
        (await t.store.prisma.resource.findMany({ where: { orgId } })).map((r) => r.id),
        [theirResource],
      );
    });

    test('a CloudClusterAdmin updates its own resource only and may not create resources (403)', async () => {
      const orgId = await newOrg();
      const envId = await newEnv(orgId);
      const [mine, sibling] = [await newResource(orgId, envId), await newResource(orgId, envId)];
      const admin = await credentialFor(t, orgId, [{ role: 'CloudClusterAdmin', scope: { type: 'resource', id: mine } }]);
      const headers = { authorization: admin.authorization };
      assert.equal(
        (await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/resources/${mine}`, headers, payload: { display_name: 'mine' } })).statusCode,
        200,
      );
      assert.equal(
        (await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/resources/${sibling}`, headers, payload: { display_name: 'x' } })).statusCode,
        403,
      );
      const create = await t.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/resources`,
        headers,
        payload: { kind: 'kafka_cluster', display_name: 'x', environment_id: envId },
      });
      assert.equal(create.statusCode, 403);
      assert.equal(await t.store.prisma.resource.count({ where: { orgId } }), 2);
    });

    test('a Developer role reads resources but may not change them (403)', async () => {
      const orgId = await newOrg();
      const envId = await newEnv(orgId);
      const resourceId = await newResource(orgId, envId);
      const dev = await credentialFor(t, orgId, [{ role: 'DeveloperManage', scope: { type: 'resource', id: resourceId } }]);
      const headers = { authorization: dev.authorization };
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources?environment_id=${envId}`, headers })).json().data.length, 1);
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${resourceId}`, headers })).statusCode, 200);
      assert.equal(
        (await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/resources/${resourceId}`, headers, payload: { display_name: 'x' } })).statusCode,
        403,
      );
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/resources/${resourceId}`, headers })).statusCode, 403);
      assert.equal(await t.store.prisma.resource.count({ where: { id: resourceId } }), 1);
    });

    test('an OrganizationAdmin of another organization gets 404 on every route', async () => {
      const orgId = await newOrg();
      const envId = await newEnv(orgId);
      const resourceId = await newResource(orgId, envId);
      const otherOrg = await newOrg();
      const outsider = await credentialFor(t, otherOrg, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const headers = { authorization: outsider.authorization };
      const routes: Array<{ method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object }> = [
        { method: 'POST', url: `/v1/orgs/${orgId}/resources`, payload: { kind: 'kafka_cluster', display_name: 'x', environment_id: envId } },
        { method: 'GET', url: `/v1/orgs/${orgId}/resources` },
        { method: 'GET', url: `/v1/orgs/${orgId}/resources/${resourceId}` },
        { method: 'PATCH', url: `/v1/orgs/${orgId}/resources/${resourceId}`, payload: { display_name: 'y' } },
        { method: 'DELETE', url: `/v1/orgs/${orgId}/resources/${resourceId}` },
        { method: 'GET', url: `/v1/orgs/${otherOrg}/resources/${resourceId}` },
        { method: 'PATCH', url: `/v1/orgs/${otherOrg}/resources/${resourceId}`, payload: { display_name: 'y' } },
        { method: 'DELETE', url: `/v1/orgs/${otherOrg}/resources/${resourceId}` },
      ];
      for (const route of routes) assert.equal((await t.inject({ ...route, headers })).statusCode, 404, `${route.method} ${route.url}`);
      const otherCreate = await t.inject({
        method: 'POST',
        url: `/v1/orgs/${otherOrg}/resources`,
        headers,
        payload: { kind: 'kafka_cluster', display_name: 'x', environment_id: envId },
      });
      assert.equal(otherCreate.statusCode, 422, 'another organization’s environment is not one of its own');
      assert.equal(await t.store.prisma.resource.count({ where: { environmentId: envId } }), 1);
    });
  });
});
