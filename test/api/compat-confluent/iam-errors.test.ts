import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { confluentFixtures } from '../../helpers/compat-confluent.js';
import { createCluster, createOrg, credentialFor } from '../../helpers/principals.js';

describe('Confluent IAM v2 compatibility: errors', () => {
  const t = suiteApp();
  const { setup, createKey, confluentErrors } = confluentFixtures(() => t);

  describe('API keys', () => {
    test('bad Flink scopes and unknown resources are 422 naming spec.resource.id; nothing is created', async () => {
      const { orgId, environmentId, admin, ownerId } = await setup();
      const other = await createOrg(t);
      const { resourceId: otherResource } = await createCluster(t, other);
      for (const resource of [
        { id: `${environmentId}.aws.mars-1` },
        { id: `${environmentId}.aws` },
        { id: 'lkc-abc', api_version: 'fcpm/v2' },
        { id: 'env-nosuchenv.aws.us-east-2' },
        { id: otherResource },
      ]) {
        const errors = confluentErrors(await createKey(admin, { owner: { id: ownerId }, resource }), 422);
        assert.deepEqual(
          errors.map((e) => e.source),
          [{ pointer: '/spec/resource/id' }],
          JSON.stringify(resource),
        );
        assert.match(errors[0]!.detail, /^spec\.resource\.id /);
      }
      assert.equal(await t.store.prisma.apiKey.count({ where: { orgId, ownerId } }), 0);
    });

    test('invalid bodies are 422 with one error per field, pointing at it', async () => {
      const { admin, ownerId } = await setup();
      const missing = confluentErrors(await createKey(admin, { display_name: 'x' }), 422);
      assert.deepEqual(
        missing.map((e) => e.source),
        [{ pointer: '/spec/owner' }],
      );
      assert.equal(missing[0]!.code, 'validation_failed');

      const res = await t.inject({
        method: 'POST',
        url: '/iam/v2/api-keys',
        headers: admin,
        payload: { spec: { owner: { id: ownerId }, colour: 'red', display_name: 7 }, extra: 1 },
      });
      const pointers = confluentErrors(res, 422)
        .map((e) => e.source?.pointer)
        .sort();
      assert.deepEqual(pointers, ['/extra', '/spec/colour', '/spec/display_name']);

      const unknownOwner = confluentErrors(await createKey(admin, { owner: { id: 'sa-doesnotexist' } }), 422);
      assert.deepEqual(
        unknownOwner.map((e) => e.source),
        [{ pointer: '/spec/owner/id' }],
      );

      const malformed = await t.inject({
        method: 'POST',
        url: '/iam/v2/api-keys',
        headers: { ...admin, 'content-type': 'application/json' },
        payload: '{"spec":',
      });
      assert.equal(confluentErrors(malformed, 400)[0]!.code, 'malformed_json');
    });

    test('bad query parameters are 422 naming the parameter', async () => {
      const { admin } = await setup();
      const size = confluentErrors(await t.inject({ method: 'GET', url: '/iam/v2/api-keys?page_size=500', headers: admin }), 422);
      assert.deepEqual(
        size.map((e) => e.source),
        [{ parameter: 'page_size' }],
      );
      const token = confluentErrors(await t.inject({ method: 'GET', url: '/iam/v2/api-keys?page_token=garbage', headers: admin }), 422);
      assert.deepEqual(
        token.map((e) => e.source),
        [{ parameter: 'page_token' }],
      );
    });
  });

  describe('service accounts', () => {
    test('errors: duplicate name 409, bad body 422, bad display_name filter 422, another tenant 404, no role 403', async () => {
      const a = await setup();
      const b = await setup();
      const name = uniqueName('svc');
      const sa = (await t.inject({ method: 'POST', url: '/iam/v2/service-accounts', headers: a.admin, payload: { display_name: name } })).json();

      const dup = confluentErrors(await t.inject({ method: 'POST', url: '/iam/v2/service-accounts', headers: a.admin, payload: { display_name: name } }), 409);
      assert.equal(dup[0]!.code, 'name_taken');

      const bad = confluentErrors(
        await t.inject({ method: 'POST', url: '/iam/v2/service-accounts', headers: a.admin, payload: { display_name: '', owner: 'x' } }),
        422,
      );
      assert.deepEqual(bad.map((e) => e.source?.pointer).sort(), ['/display_name', '/owner']);

      const filter = confluentErrors(await t.inject({ method: 'GET', url: '/iam/v2/service-accounts?display_name=a%00b', headers: a.admin }), 422);
      assert.deepEqual(
        filter.map((e) => e.source),
        [{ parameter: 'display_name' }],
      );
      // Another tenant's service account is not found by its name either.
      const otherTenant = (await t.inject({ method: 'GET', url: `/iam/v2/service-accounts?display_name=${name}`, headers: b.admin })).json();
      assert.deepEqual(otherTenant.data, []);

      for (const request of [
        { method: 'GET', url: `/iam/v2/service-accounts/${sa.id}` },
        { method: 'PATCH', url: `/iam/v2/service-accounts/${sa.id}`, payload: { description: 'x' } },
        { method: 'DELETE', url: `/iam/v2/service-accounts/${sa.id}` },
      ] as const) {
        confluentErrors(await t.inject({ ...request, headers: b.admin }), 404);
      }
      const listed = (await t.inject({ method: 'GET', url: '/iam/v2/service-accounts?page_size=100', headers: b.admin })).json();
      assert.ok(!listed.data.some((s: { id: string }) => s.id === sa.id));

      const member = await credentialFor(t, a.orgId, []);
      const forbidden = confluentErrors(
        await t.inject({
          method: 'POST',
          url: '/iam/v2/service-accounts',
          headers: { authorization: member.authorization },
          payload: { display_name: uniqueName('svc') },
        }),
        403,
      );
      assert.equal(forbidden[0]!.code, 'forbidden');
      // The directory needs a role in the organization: a member without one may not read it either.
      confluentErrors(await t.inject({ method: 'GET', url: `/iam/v2/service-accounts/${sa.id}`, headers: { authorization: member.authorization } }), 403);
    });
  });
});
