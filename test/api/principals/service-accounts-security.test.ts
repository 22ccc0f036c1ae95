import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { suiteApp } from '../../helpers/app.js';
import { credentialFor, serviceAccountFixtures } from '../../helpers/principals.js';

describe('service accounts: security', () => {
  const t = suiteApp();
  const { newOrg, newSa } = serviceAccountFixtures(() => t);

  test('every route answers 401 without a credential', async () => {
    const orgId = await newOrg();
    const saId = await newSa(orgId);
    const routes: Array<{ method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object }> = [
      { method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, payload: { display_name: 'x' } },
      { method: 'GET', url: `/v1/orgs/${orgId}/service-accounts` },
      { method: 'GET', url: `/v1/orgs/${orgId}/service-accounts/${saId}` },
      { method: 'PATCH', url: `/v1/orgs/${orgId}/service-accounts/${saId}`, payload: { description: 'y' } },
      { method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${saId}` },
    ];
    for (const route of routes) assert.equal((await t.inject(route)).statusCode, 401, `${route.method} ${route.url}`);
    assert.equal(await t.store.prisma.principal.count({ where: { orgId } }), 1);
  });

  test('patch of another organization’s service account is 404', async () => {
    const orgId = await newOrg();
    const saId = await newSa(orgId, 'mine');
    const res = await t.inject({
      method: 'PATCH',
      url: `/v1/orgs/${await newOrg()}/service-accounts/${saId}`,
      headers: t.root,
      payload: { description: 'stolen' },
    });
    assert.equal(res.statusCode, 404);
    assert.equal((await t.store.prisma.principal.findUniqueOrThrow({ where: { id: saId } })).description, '');
  });

  describe('with a principal’s cloud API key', () => {
    test('an OrganizationAdmin manages service accounts, and the audit trail names it', async () => {
      const orgId = await newOrg();
      const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const headers = { authorization: admin.authorization };
      const res = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, headers, payload: { display_name: 'made-by-admin' } });
      assert.equal(res.statusCode, 201);
      const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'service_account.create', target: res.json().id } });
      assert.equal(event?.actor, admin.principalId);
      assert.equal(
        (await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/service-accounts/${res.json().id}`, headers, payload: { description: 'x' } })).statusCode,
        200,
      );
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${res.json().id}`, headers })).statusCode, 204);
    });

    test('an EnvironmentAdmin reads service accounts but may not create, change or delete them (403)', async () => {
      const orgId = await newOrg();
      const envId = (await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: t.root, payload: { display_name: 'prod' } })).json().id;
      const envAdmin = await credentialFor(t, orgId, [{ role: 'EnvironmentAdmin', scope: { type: 'environment', id: envId } }]);
      const headers = { authorization: envAdmin.authorization };
      const saId = await newSa(orgId, 'target');
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/service-accounts`, headers })).statusCode, 200);
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/service-accounts/${saId}`, headers })).statusCode, 200);
      const create = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, headers, payload: { display_name: 'nope' } });
      assert.equal(create.statusCode, 403);
      assert.equal(create.json().code, 'forbidden');
      assert.equal(
        (await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/service-accounts/${saId}`, headers, payload: { description: 'x' } })).statusCode,
        403,
      );
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${saId}?force=true`, headers })).statusCode, 403);
      assert.equal(await t.store.prisma.principal.count({ where: { orgId, kind: 'service_account' } }), 2);
    });

    test('a Verifier or a principal without roles may not read the directory (403): users, service accounts, role bindings', async () => {
      const orgId = await newOrg();
      const saId = await newSa(orgId, 'target');
      const verifier = await credentialFor(t, orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
      const roleless = await credentialFor(t, orgId, []);
      for (const who of [verifier, roleless]) {
        const headers = { authorization: who.authorization };
        for (const url of [
          `/v1/orgs/${orgId}/service-accounts`,
          `/v1/orgs/${orgId}/service-accounts/${saId}`,
          `/v1/orgs/${orgId}/users`,
          `/v1/orgs/${orgId}/role-bindings`,
          '/iam/v2/service-accounts',
        ]) {
          const res = await t.inject({ method: 'GET', url, headers });
          assert.equal(res.statusCode, 403, `${url}: ${res.body}`);
        }
      }
    });

    test('an OrganizationAdmin of another organization gets 404 on every route', async () => {
      const orgId = await newOrg();
      const saId = await newSa(orgId);
      const otherOrg = await newOrg();
      const outsider = await credentialFor(t, otherOrg, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const headers = { authorization: outsider.authorization };
      const routes: Array<{ method: 'GET' | 'POST' | 'PATCH' | 'DELETE'; url: string; payload?: object }> = [
        { method: 'POST', url: `/v1/orgs/${orgId}/service-accounts`, payload: { display_name: 'x' } },
        { method: 'GET', url: `/v1/orgs/${orgId}/service-accounts` },
        { method: 'GET', url: `/v1/orgs/${orgId}/service-accounts/${saId}` },
        { method: 'PATCH', url: `/v1/orgs/${orgId}/service-accounts/${saId}`, payload: { description: 'y' } },
        { method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${saId}?force=true` },
        { method: 'GET', url: `/v1/orgs/${otherOrg}/service-accounts/${saId}` },
        { method: 'DELETE', url: `/v1/orgs/${otherOrg}/service-accounts/${saId}?force=true` },
      ];
      for (const route of routes) assert.equal((await t.inject({ ...route, headers })).statusCode, 404, `${route.method} ${route.url}`);
      assert.equal(await t.store.prisma.principal.count({ where: { orgId } }), 1);
    });

    test('a key that just authenticated a request blocks deleting its owner, and deleting with force ends the key', async () => {
      const orgId = await newOrg();
      const sa = await credentialFor(t, orgId, []);
      const headers = { authorization: sa.authorization };
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers })).statusCode, 200);
      // last_used_at is written in batches shortly after the use.
      for (let i = 0; i < 50 && !(await t.store.prisma.apiKey.findUniqueOrThrow({ where: { id: sa.keyId } })).lastUsedAt; i++) await sleep(50);
      const url = `/v1/orgs/${orgId}/service-accounts/${sa.principalId}`;
      const res = await t.inject({ method: 'DELETE', url, headers: t.root });
      assert.equal(res.statusCode, 409);
      assert.deepEqual(res.json().key_ids, [sa.keyId]);
      assert.equal((await t.inject({ method: 'DELETE', url: `${url}?force=true`, headers: t.root })).statusCode, 204);
      const after = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers });
      assert.equal(after.statusCode, 401, 'the deleted key no longer authenticates');
    });
  });
});
