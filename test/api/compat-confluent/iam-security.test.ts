import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { confluentFixtures } from '../../helpers/compat-confluent.js';
import { basic, credentialFor } from '../../helpers/principals.js';

describe('Confluent IAM v2 compatibility: security', () => {
  const t = suiteApp();
  const { setup, createKey, verify, confluentErrors } = confluentFixtures(() => t);

  describe('authentication', () => {
    test('no credential is 401 with WWW-Authenticate and Confluent’s error shape, on every route', async () => {
      const routes = [
        { method: 'POST', url: '/iam/v2/api-keys', payload: { spec: { owner: { id: 'sa-x' } } } },
        { method: 'GET', url: '/iam/v2/api-keys' },
        { method: 'GET', url: '/iam/v2/api-keys/ABCDEFGHIJKLMNOP' },
        { method: 'PATCH', url: '/iam/v2/api-keys/ABCDEFGHIJKLMNOP', payload: { spec: { description: 'x' } } },
        { method: 'DELETE', url: '/iam/v2/api-keys/ABCDEFGHIJKLMNOP' },
        { method: 'POST', url: '/iam/v2/service-accounts', payload: { display_name: 'x' } },
        { method: 'GET', url: '/iam/v2/service-accounts' },
        { method: 'GET', url: '/iam/v2/service-accounts/sa-x' },
        { method: 'PATCH', url: '/iam/v2/service-accounts/sa-x', payload: { description: 'x' } },
        { method: 'DELETE', url: '/iam/v2/service-accounts/sa-x' },
      ] as const;
      for (const route of routes) {
        const res = await t.inject({ ...route });
        const [error] = confluentErrors(res, 401);
        assert.match(String(res.headers['www-authenticate']), /Basic/, `${route.method} ${route.url}`);
        assert.equal(error?.code, 'unauthorized');
      }
    });

    test('a wrong secret, an unknown key and a resource key presented as Basic are 401', async () => {
      const { admin, ownerId, resourceId } = await setup();
      const resourceKey = (await createKey(admin, { owner: { id: ownerId }, resource: { id: resourceId } })).json();
      const [keyId] = Buffer.from(admin.authorization.slice('Basic '.length), 'base64').toString().split(':');
      for (const authorization of [
        basic(keyId!, 'lks_wrong').authorization,
        basic('ABCDEFGHIJKLMNOP', 'whatever').authorization,
        basic(resourceKey.id, resourceKey.spec.secret).authorization,
      ]) {
        const res = await t.inject({ method: 'GET', url: '/iam/v2/api-keys', headers: { authorization } });
        confluentErrors(res, 401);
        assert.ok(res.headers['www-authenticate']);
      }
    });

    test('the root token is refused with 403, pointing to /v1', async () => {
      for (const url of ['/iam/v2/api-keys', '/iam/v2/service-accounts']) {
        const [error] = confluentErrors(await t.inject({ method: 'GET', url, headers: t.root }), 403);
        assert.match(error!.detail, /\/v1\/orgs\/\{org_id\}/);
      }
    });

    test('an unknown /iam/v2 path is a Confluent-shaped 404', async () => {
      const [error] = confluentErrors(await t.inject({ method: 'GET', url: '/iam/v2/users' }), 404);
      assert.equal(error!.code, 'not_found');
    });
  });

  describe('API keys', () => {
    test('a principal without a role on the scope gets 403 in Confluent’s shape', async () => {
      const { orgId, resourceId, ownerId } = await setup();
      const reader = await credentialFor(t, orgId, [{ role: 'DeveloperRead', scope: { type: 'resource', id: resourceId } }]);
      const headers = { authorization: reader.authorization };
      const cloud = confluentErrors(await createKey(headers, { owner: { id: reader.principalId }, resource: { id: 'cloud' } }), 403);
      assert.equal(cloud[0]!.code, 'forbidden');
      confluentErrors(await createKey(headers, { owner: { id: ownerId }, resource: { id: resourceId } }), 403);
      const own = await createKey(headers, { owner: { id: reader.principalId }, resource: { id: resourceId } });
      assert.equal(own.statusCode, 202, own.body);
    });

    test('another tenant’s key is 404 on get, patch and delete, and stays untouched', async () => {
      const a = await setup();
      const b = await setup();
      const key = (await createKey(a.admin, { owner: { id: a.ownerId }, resource: { id: a.resourceId }, display_name: 'mine' })).json();
      const url = `/iam/v2/api-keys/${key.id}`;
      for (const request of [
        { method: 'GET', url },
        { method: 'PATCH', url, payload: { spec: { display_name: 'theirs' } } },
        { method: 'DELETE', url },
      ] as const) {
        const [error] = confluentErrors(await t.inject({ ...request, headers: b.admin }), 404);
        assert.equal(error!.code, 'not_found');
      }
      const listed = await t.inject({ method: 'GET', url: `/iam/v2/api-keys?spec.owner=${a.ownerId}`, headers: b.admin });
      assert.deepEqual(listed.json().data, []);
      assert.equal((await verify(key.id, key.spec.secret, a.resourceId)).json().code, 'VALID');
      assert.equal((await t.inject({ method: 'GET', url, headers: a.admin })).json().spec.display_name, 'mine');
    });
  });
});
