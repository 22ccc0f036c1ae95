import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newApiKeyId, newId } from '../../../src/crypto/tokens.js';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { paths } from '../../helpers/problems.js';
import { resourceFixtures } from '../../helpers/resources.js';

describe('resources', () => {
  const t = suiteApp();
  const { newOrg, newEnv, createResource, newResource } = resourceFixtures(() => t);

  test('create answers 201 with the resource, its id prefixed by kind, and is audited', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const res = await createResource(orgId, { kind: 'kafka_cluster', display_name: 'orders', environment_id: envId, cloud: 'aws', region: 'us-east-2' });
    assert.equal(res.statusCode, 201);
    const resource = res.json();
    assert.match(resource.id, /^lkc-[a-z0-9]{10}$/);
    assert.deepEqual(
      { ...resource, id: undefined, created_at: undefined, updated_at: undefined },
      {
        id: undefined,
        kind: 'kafka_cluster',
        display_name: 'orders',
        environment_id: envId,
        cloud: 'aws',
        region: 'us-east-2',
        created_at: undefined,
        updated_at: undefined,
      },
    );
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'resource.create' } });
    assert.equal(event?.target, resource.id);
    assert.deepEqual(event?.details, { kind: 'kafka_cluster', environment_id: envId, display_name: 'orders' });
  });

  test('every kind gets its id prefix; cloud and region are optional', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const prefixes = { kafka_cluster: 'lkc', schema_registry: 'lsrc', ksqldb_cluster: 'lksqlc', pulsar_cluster: 'pc', fluvio_cluster: 'fc' };
    for (const [kind, prefix] of Object.entries(prefixes)) {
      const res = await createResource(orgId, { kind, display_name: kind, environment_id: envId });
      assert.equal(res.statusCode, 201, kind);
      assert.match(res.json().id, new RegExp(`^${prefix}-[a-z0-9]{10}$`));
      assert.equal(res.json().cloud, null);
      assert.equal(res.json().region, null);
    }
  });

  test('list filters by kind and environment and pages through this organization only', async () => {
    const orgId = await newOrg();
    const [envA, envB] = [await newEnv(orgId), await newEnv(orgId)];
    const kafkaA = [await newResource(orgId, envA), await newResource(orgId, envA), await newResource(orgId, envA)];
    const registryA = await newResource(orgId, envA, 'schema_registry');
    const kafkaB = await newResource(orgId, envB);
    const otherOrg = await newOrg();
    await newResource(otherOrg, await newEnv(otherOrg));

    const list = async (query: string) => {
      const ids: string[] = [];
      let token: string | null = null;
      do {
        const url: string = `/v1/orgs/${orgId}/resources?page_size=2${query}${token ? `&page_token=${token}` : ''}`;
        const res = await t.inject({ method: 'GET', url, headers: t.root });
        assert.equal(res.statusCode, 200);
        ids.push(...res.json().data.map((r: { id: string }) => r.id));
        token = res.json().next_page_token;
      } while (token);
      return ids.sort();
    };
    assert.deepEqual(await list(''), [...kafkaA, registryA, kafkaB].sort());
    assert.deepEqual(await list('&kind=kafka_cluster'), [...kafkaA, kafkaB].sort());
    assert.deepEqual(await list(`&environment_id=${envA}`), [...kafkaA, registryA].sort());
    assert.deepEqual(await list(`&kind=kafka_cluster&environment_id=${envB}`), [kafkaB]);
    const bad = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources?kind=mainframe`, headers: t.root });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(paths(bad.json()), ['kind']);
  });

  test('get answers the resource; another organization’s resource is 404', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const resourceId = await newResource(orgId, envId, 'pulsar_cluster');
    const res = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${resourceId}`, headers: t.root });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().kind, 'pulsar_cluster');
    assert.equal(res.json().environment_id, envId);
    const cross = await t.inject({ method: 'GET', url: `/v1/orgs/${await newOrg()}/resources/${resourceId}`, headers: t.root });
    assert.equal(cross.statusCode, 404);
    assert.equal(cross.json().code, 'not_found');
  });

  test('patch changes display name, cloud and region (null clears) and is audited', async () => {
    const orgId = await newOrg();
    const resourceId = await newResource(orgId, await newEnv(orgId));
    const url = `/v1/orgs/${orgId}/resources/${resourceId}`;
    const res = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { display_name: 'renamed', cloud: 'gcp', region: 'europe-west1' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().display_name, 'renamed');
    assert.equal(res.json().cloud, 'gcp');
    assert.equal(res.json().region, 'europe-west1');
    const cleared = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { region: null } });
    assert.equal(cleared.statusCode, 200);
    assert.equal(cleared.json().region, null);
    assert.equal(cleared.json().cloud, 'gcp');
    const row = await t.store.prisma.resource.findUniqueOrThrow({ where: { id: resourceId } });
    assert.deepEqual([row.displayName, row.cloud, row.region], ['renamed', 'gcp', null]);
    const events = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'resource.update', target: resourceId }, orderBy: { id: 'asc' } });
    assert.deepEqual(
      events.map((e) => e.details),
      [{ fields: ['display_name', 'cloud', 'region'] }, { fields: ['region'] }],
    );
  });

  test('an empty patch changes nothing and writes no audit event', async () => {
    const orgId = await newOrg();
    const resourceId = await newResource(orgId, await newEnv(orgId));
    const url = `/v1/orgs/${orgId}/resources/${resourceId}`;
    const before = await t.inject({ method: 'GET', url, headers: t.root });
    const res = await t.inject({ method: 'PATCH', url, headers: t.root, payload: {} });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), before.json());
    assert.equal(await t.store.prisma.auditEvent.count({ where: { orgId, action: 'resource.update' } }), 0);
  });

  test('delete removes the resource, its API keys and the role bindings on it, and drops the keys from caches', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const resourceId = await newResource(orgId, envId);
    const keptId = await newResource(orgId, envId);
    const owner = await t.store.prisma.principal.create({ data: { id: newId('sa'), orgId, kind: 'service_account', displayName: uniqueName('sa') } });
    const apiKey = (resource: string) => ({
      id: newApiKeyId(),
      orgId,
      ownerId: owner.id,
      type: 'resource' as const,
      resourceId: resource,
      secretHash: '$argon2id$fixture',
      secretHint: 'abcd',
    });
    const doomed = [apiKey(resourceId), apiKey(resourceId)];
    const kept = apiKey(keptId);
    await t.store.prisma.apiKey.createMany({ data: [...doomed, kept] });
    await t.store.prisma.roleBinding.createMany({
      data: [
        { id: newId('rb'), orgId, principalId: owner.id, role: 'CloudClusterAdmin', scopeType: 'resource', scopeId: resourceId },
        { id: newId('rb'), orgId, principalId: owner.id, role: 'CloudClusterAdmin', scopeType: 'resource', scopeId: keptId },
      ],
    });
    const invalidated: string[] = [];
    const unsubscribe = t.store.bus.subscribe((invalidation) => {
      if (invalidation !== 'all' && invalidation.kind === 'api_key') invalidated.push(...invalidation.ids);
    });
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/resources/${resourceId}`, headers: t.root });
    unsubscribe();
    assert.equal(res.statusCode, 204);
    assert.equal(await t.store.prisma.resource.count({ where: { id: resourceId } }), 0);
    assert.equal(await t.store.prisma.apiKey.count({ where: { resourceId } }), 0);
    assert.equal(await t.store.prisma.apiKey.count({ where: { id: kept.id } }), 1);
    assert.equal(await t.store.prisma.roleBinding.count({ where: { scopeId: resourceId } }), 0);
    assert.equal(await t.store.prisma.roleBinding.count({ where: { scopeId: keptId } }), 1);
    assert.deepEqual([...new Set(invalidated)].sort(), doomed.map((k) => k.id).sort());
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'resource.delete', target: resourceId } });
    assert.deepEqual(event?.details, { kind: 'kafka_cluster', api_keys_deleted: doomed.map((k) => k.id).sort(), role_bindings_deleted: 1 });
    const again = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${resourceId}`, headers: t.root });
    assert.equal(again.statusCode, 404);
  });
});
