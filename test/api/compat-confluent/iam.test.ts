import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { confluentFixtures } from '../../helpers/compat-confluent.js';
import { basic, createCluster } from '../../helpers/principals.js';

describe('Confluent IAM v2 compatibility', () => {
  const t = suiteApp();
  const { setup, createKey, verify, confluentErrors } = confluentFixtures(() => t);

  describe('API keys', () => {
    test('creating a Kafka cluster key answers 202 with Confluent’s ApiKey; the secret verifies through /v1', async () => {
      const { orgId, admin, ownerId, resourceId } = await setup();
      const res = await createKey(admin, { display_name: 'orders', description: 'CI', owner: { id: ownerId }, resource: { id: resourceId } });
      assert.equal(res.statusCode, 202, res.body);
      const key = res.json();
      assert.equal(res.headers.location, `/iam/v2/api-keys/${key.id}`);
      assert.match(key.id, /^[A-Z0-9]{16}$/);
      assert.equal(key.api_version, 'iam/v2');
      assert.equal(key.kind, 'ApiKey');
      assert.deepEqual(Object.keys(key.metadata).sort(), ['created_at', 'resource_name', 'self', 'updated_at']);
      assert.equal(key.metadata.self, `/iam/v2/api-keys/${key.id}`);
      assert.equal(key.metadata.resource_name, `crn://latchkey/organization=${orgId}/api-key=${key.id}`);
      assert.equal(key.spec.display_name, 'orders');
      assert.equal(key.spec.description, 'CI');
      assert.deepEqual(key.spec.owner, {
        id: ownerId,
        kind: 'ServiceAccount',
        api_version: 'iam/v2',
        related: `/iam/v2/service-accounts/${ownerId}`,
        resource_name: `crn://latchkey/organization=${orgId}/service-account=${ownerId}`,
      });
      assert.deepEqual(key.spec.resource, {
        id: resourceId,
        kind: 'Cluster',
        api_version: 'cmk/v2',
        related: `/v1/orgs/${orgId}/resources/${resourceId}`,
        resource_name: `crn://latchkey/organization=${orgId}/cloud-cluster=${resourceId}`,
      });
      assert.match(key.spec.secret, /^lks_/);
      assert.equal((await verify(key.id, key.spec.secret, resourceId)).json().code, 'VALID');

      const v1 = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: t.root });
      assert.deepEqual(v1.json().scope, { type: 'resource', resource_id: resourceId });
      assert.deepEqual(v1.json().owner, { id: ownerId, type: 'service_account' });
      const audit = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'api_key.create', target: key.id } });
      assert.equal(audit.length, 1);
    });

    test('Schema Registry and ksqlDB keys carry their Confluent kinds', async () => {
      const { orgId, admin, ownerId } = await setup();
      for (const [kind, confluentKind, apiVersion] of [
        ['schema_registry', 'SchemaRegistry', 'srcm/v2'],
        ['ksqldb_cluster', 'ksqlDB', 'ksqldbcm/v2'],
      ] as const) {
        const { resourceId } = await createCluster(t, orgId, kind);
        const key = (await createKey(admin, { owner: { id: ownerId }, resource: { id: resourceId } })).json();
        assert.equal(key.spec.resource.kind, confluentKind);
        assert.equal(key.spec.resource.api_version, apiVersion);
        assert.equal((await verify(key.id, key.spec.secret, resourceId)).json().code, 'VALID');
      }
    });

    test('a cloud key is created with resource.id "cloud" (any case) or without a resource, and manages /iam/v2 itself', async () => {
      const { orgId, admin, adminId } = await setup();
      for (const spec of [{ resource: { id: 'cloud' } }, { resource: { id: 'CLOUD', kind: 'Cloud' } }, {}]) {
        const res = await createKey(admin, { owner: { id: adminId }, ...spec });
        assert.equal(res.statusCode, 202, res.body);
        const key = res.json();
        assert.equal(key.spec.resource.id, 'cloud');
        assert.equal(key.spec.resource.kind, 'Cloud');
        assert.equal(key.spec.resource.resource_name, `crn://latchkey/organization=${orgId}`);
        assert.equal((await verify(key.id, key.spec.secret, 'cloud')).json().code, 'VALID');
        const list = await t.inject({ method: 'GET', url: '/iam/v2/api-keys', headers: basic(key.id, key.spec.secret) });
        assert.equal(list.statusCode, 200, list.body);
      }
    });

    test('the seeds’ Flink call: Basic auth with a cloud key, resource env-xxx.aws.us-east-2 with api_version fcpm/v2', async () => {
      const { orgId, environmentId, admin, ownerId } = await setup();
      const res = await t.inject({
        method: 'POST',
        url: '/iam/v2/api-keys',
        headers: { ...admin, 'content-type': 'application/json' },
        payload: JSON.stringify({
          spec: {
            display_name: 'flink-key',
            description: 'Flink statements in us-east-2',
            owner: { id: ownerId },
            resource: { id: `${environmentId}.aws.us-east-2`, api_version: 'fcpm/v2' },
          },
        }),
      });
      assert.equal(res.statusCode, 202, res.body);
      const key = res.json();
      assert.deepEqual(key.spec.resource, {
        id: `${environmentId}.aws.us-east-2`,
        kind: 'Region',
        api_version: 'fcpm/v2',
        related: '/v1/flink-regions',
        resource_name: `crn://latchkey/organization=${orgId}/environment=${environmentId}/flink-region=aws.us-east-2`,
        environment: environmentId,
      });
      assert.equal((await verify(key.id, key.spec.secret, `${environmentId}.aws.us-east-2`)).json().code, 'VALID');
      assert.equal((await verify(key.id, key.spec.secret, `${environmentId}.aws.us-west-2`)).json().code, 'WRONG_RESOURCE');
      const v1 = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: t.root });
      assert.deepEqual(v1.json().scope, { type: 'flink', environment_id: environmentId, cloud: 'aws', region: 'us-east-2' });
    });

    test('list by owner pages through metadata.next, confluent-CLI style; secrets never appear', async () => {
      const { admin, ownerId, resourceId, adminId } = await setup();
      const secrets: string[] = [];
      for (let i = 0; i < 5; i++) {
        const key = (await createKey(admin, { owner: { id: ownerId }, resource: { id: resourceId }, display_name: `k${i}` })).json();
        secrets.push(key.spec.secret);
      }
      await createKey(admin, { owner: { id: adminId }, resource: { id: resourceId } });

      const seen: string[] = [];
      let url: string | undefined = `/iam/v2/api-keys?page_size=2&spec.owner=${ownerId}&spec.resource=`;
      let pages = 0;
      while (url) {
        const res = await t.inject({ method: 'GET', url, headers: admin });
        assert.equal(res.statusCode, 200, res.body);
        const page = res.json();
        assert.equal(page.api_version, 'iam/v2');
        assert.equal(page.kind, 'ApiKeyList');
        assert.equal(page.metadata.first, `/iam/v2/api-keys?spec.owner=${ownerId}&page_size=2`);
        for (const secret of secrets) assert.ok(!res.body.includes(secret));
        for (const key of page.data) {
          assert.equal(key.spec.owner.id, ownerId);
          assert.equal(key.spec.secret, undefined);
          seen.push(key.id);
        }
        pages++;
        if (page.metadata.next) {
          assert.match(page.metadata.next, /^\/iam\/v2\/api-keys\?.*page_token=/);
          // The CLI keeps only page_token from `next` and sends its own filters again.
          const token = new URL(page.metadata.next, 'http://x').searchParams.get('page_token');
          url = `/iam/v2/api-keys?page_size=2&spec.owner=${ownerId}&spec.resource=&page_token=${token}`;
        } else {
          assert.ok(!('next' in page.metadata), 'no next on the last page (the CLI dereferences a null one)');
          url = undefined;
        }
      }
      assert.equal(pages, 3);
      assert.equal(new Set(seen).size, 5);

      const followed = await t.inject({ method: 'GET', url: `/iam/v2/api-keys?page_size=2&spec.owner=${ownerId}`, headers: admin });
      const next = await t.inject({ method: 'GET', url: followed.json().metadata.next, headers: admin });
      assert.equal(next.statusCode, 200);
      assert.equal(next.json().data.length, 2);
    });

    test('list by resource: a cluster id, cloud, or a Flink environment and region', async () => {
      const { orgId, environmentId, admin, adminId, ownerId, resourceId } = await setup();
      const { resourceId: otherCluster } = await createCluster(t, orgId);
      const onCluster = (await createKey(admin, { owner: { id: ownerId }, resource: { id: resourceId } })).json();
      await createKey(admin, { owner: { id: ownerId }, resource: { id: otherCluster } });
      const flink = (await createKey(admin, { owner: { id: ownerId }, resource: { id: `${environmentId}.aws.us-east-2` } })).json();
      await createKey(admin, { owner: { id: ownerId }, resource: { id: `${environmentId}.aws.us-west-2` } });

      const ids = async (query: string) => {
        const res = await t.inject({ method: 'GET', url: `/iam/v2/api-keys?${query}`, headers: admin });
        assert.equal(res.statusCode, 200, res.body);
        return res
          .json()
          .data.map((k: { id: string }) => k.id)
          .sort();
      };
      assert.deepEqual(await ids(`spec.resource=${resourceId}`), [onCluster.id]);
      assert.deepEqual(await ids(`spec.resource=${environmentId}.aws.us-east-2`), [flink.id]);
      const cloudKeys = await ids('spec.resource=cloud');
      const adminKeys = await t.store.prisma.apiKey.findMany({ where: { ownerId: adminId, type: 'cloud' }, select: { id: true } });
      assert.deepEqual(cloudKeys, adminKeys.map((k) => k.id).sort());
      assert.deepEqual(await ids(`spec.owner=${ownerId}&spec.resource=${otherCluster}`).then((x) => x.length), 1);
      assert.deepEqual(await ids('spec.owner=sa-nobody'), []);
    });

    test('get, patch and delete; the same key through /v1; deleted keys are gone from /iam/v2 but verify as REVOKED', async () => {
      const { orgId, admin, ownerId, resourceId } = await setup();
      const created = (await createKey(admin, { owner: { id: ownerId }, resource: { id: resourceId }, display_name: 'a' })).json();
      const url = `/iam/v2/api-keys/${created.id}`;

      const got = await t.inject({ method: 'GET', url, headers: admin });
      assert.equal(got.statusCode, 200);
      assert.equal(got.json().spec.secret, undefined);
      assert.ok(!got.body.includes(created.spec.secret));
      const { secret: _secret, ...specWithoutSecret } = created.spec;
      assert.deepEqual(got.json(), { ...created, spec: specWithoutSecret });

      const patched = await t.inject({ method: 'PATCH', url, headers: admin, payload: { spec: { display_name: 'renamed', description: 'new words' } } });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal(patched.json().spec.display_name, 'renamed');
      assert.equal(patched.json().spec.description, 'new words');
      const v1 = (await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys/${created.id}`, headers: t.root })).json();
      assert.equal(v1.display_name, 'renamed');
      assert.equal(v1.description, 'new words');

      const immutable = confluentErrors(await t.inject({ method: 'PATCH', url, headers: admin, payload: { spec: { owner: { id: 'sa-other' } } } }), 422);
      assert.equal(immutable[0]!.code, 'immutable_field');
      assert.deepEqual(immutable[0]!.source, { pointer: '/spec/owner' });

      const deleted = await t.inject({ method: 'DELETE', url, headers: admin });
      assert.equal(deleted.statusCode, 204);
      assert.equal(deleted.body, '');
      confluentErrors(await t.inject({ method: 'GET', url, headers: admin }), 404);
      confluentErrors(await t.inject({ method: 'PATCH', url, headers: admin, payload: { spec: { description: 'x' } } }), 404);
      confluentErrors(await t.inject({ method: 'DELETE', url, headers: admin }), 404);
      const listed = await t.inject({ method: 'GET', url: `/iam/v2/api-keys?spec.owner=${ownerId}`, headers: admin });
      assert.deepEqual(listed.json().data, []);
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys/${created.id}`, headers: t.root })).json().status, 'revoked');
      assert.equal((await verify(created.id, created.spec.secret, resourceId)).json().code, 'REVOKED');
    });
  });

  describe('service accounts', () => {
    test('create, list, get, patch and delete, visible through /v1', async () => {
      const { orgId, admin } = await setup();
      const name = uniqueName('svc');
      const created = await t.inject({
        method: 'POST',
        url: '/iam/v2/service-accounts',
        headers: admin,
        payload: { display_name: name, description: 'runs CI' },
      });
      assert.equal(created.statusCode, 201, created.body);
      const sa = created.json();
      assert.equal(created.headers.location, `/iam/v2/service-accounts/${sa.id}`);
      assert.match(sa.id, /^sa-/);
      assert.deepEqual(
        { ...sa, metadata: { ...sa.metadata, created_at: undefined, updated_at: undefined } },
        {
          api_version: 'iam/v2',
          kind: 'ServiceAccount',
          id: sa.id,
          metadata: {
            self: `/iam/v2/service-accounts/${sa.id}`,
            resource_name: `crn://latchkey/organization=${orgId}/service-account=${sa.id}`,
            created_at: undefined,
            updated_at: undefined,
          },
          display_name: name,
          description: 'runs CI',
        },
      );
      const v1 = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/service-accounts/${sa.id}`, headers: t.root });
      assert.equal(v1.json().display_name, name);

      const seen: string[] = [];
      let url: string | undefined = '/iam/v2/service-accounts?page_size=1';
      while (url) {
        const page: { kind: string; data: Array<{ id: string }>; metadata: { next?: string } } = (
          await t.inject({ method: 'GET', url, headers: admin })
        ).json();
        assert.equal(page.kind, 'ServiceAccountList');
        seen.push(...page.data.map((s: { id: string }) => s.id));
        url = page.metadata.next;
      }
      const all = await t.store.prisma.principal.findMany({ where: { orgId, kind: 'service_account' }, select: { id: true } });
      assert.deepEqual(seen.sort(), all.map((p) => p.id).sort());

      const got = await t.inject({ method: 'GET', url: `/iam/v2/service-accounts/${sa.id}`, headers: admin });
      assert.deepEqual(got.json(), sa);

      const patched = await t.inject({ method: 'PATCH', url: `/iam/v2/service-accounts/${sa.id}`, headers: admin, payload: { description: 'runs CD' } });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.equal(patched.json().description, 'runs CD');
      assert.equal(patched.json().display_name, name);

      const deleted = await t.inject({ method: 'DELETE', url: `/iam/v2/service-accounts/${sa.id}`, headers: admin });
      assert.equal(deleted.statusCode, 204);
      confluentErrors(await t.inject({ method: 'GET', url: `/iam/v2/service-accounts/${sa.id}`, headers: admin }), 404);
      assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/service-accounts/${sa.id}`, headers: t.root })).statusCode, 404);
    });

    test('?display_name= filters by exact display name, repeated for several, and next links keep the filter', async () => {
      const { admin } = await setup();
      const names = [uniqueName('svc'), uniqueName('svc'), uniqueName('svc')];
      const ids: string[] = [];
      for (const name of names)
        ids.push((await t.inject({ method: 'POST', url: '/iam/v2/service-accounts', headers: admin, payload: { display_name: name } })).json().id);

      const one = (await t.inject({ method: 'GET', url: `/iam/v2/service-accounts?display_name=${names[1]}`, headers: admin })).json();
      assert.deepEqual(
        one.data.map((s: { id: string }) => s.id),
        [ids[1]],
      );
      const none = (await t.inject({ method: 'GET', url: `/iam/v2/service-accounts?display_name=${names[1]!.slice(0, -1)}`, headers: admin })).json();
      assert.deepEqual(none.data, []);

      const first = (
        await t.inject({ method: 'GET', url: `/iam/v2/service-accounts?display_name=${names[0]}&display_name=${names[2]}&page_size=1`, headers: admin })
      ).json();
      assert.equal(first.data.length, 1);
      assert.match(first.metadata.next, new RegExp(`display_name=${names[0]}&display_name=${names[2]}`));
      const second = (await t.inject({ method: 'GET', url: first.metadata.next, headers: admin })).json();
      assert.deepEqual([...first.data, ...second.data].map((s: { id: string }) => s.id).sort(), [ids[0], ids[2]].sort());
    });

    test('deleting a service account deletes its keys; recently used keys need ?force=true', async () => {
      const { orgId, admin, resourceId } = await setup();
      const sa = (await t.inject({ method: 'POST', url: '/iam/v2/service-accounts', headers: admin, payload: { display_name: uniqueName('svc') } })).json();
      const key = (await createKey(admin, { owner: { id: sa.id }, resource: { id: resourceId } })).json();
      await t.store.prisma.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: new Date() } });
      const refused = confluentErrors(await t.inject({ method: 'DELETE', url: `/iam/v2/service-accounts/${sa.id}`, headers: admin }), 409);
      assert.equal(refused[0]!.code, 'recently_used');
      assert.match(refused[0]!.detail, new RegExp(key.id));
      const forced = await t.inject({ method: 'DELETE', url: `/iam/v2/service-accounts/${sa.id}?force=true`, headers: admin });
      assert.equal(forced.statusCode, 204, forced.body);
      assert.equal(await t.store.prisma.apiKey.count({ where: { orgId, ownerId: sa.id } }), 0);
      assert.equal((await verify(key.id, key.spec.secret, resourceId)).json().code, 'INVALID');
    });
  });
});
