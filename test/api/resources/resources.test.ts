import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { newApiKeyId, newId } from '../../../src/crypto/tokens.js';
import { startTestApp, uniqueName, type TestApp } from '../../helpers/app.js';
import { credentialFor } from '../../helpers/principals.js';

describe('resources', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  const newOrg = async (): Promise<string> => {
    const res = await t.inject({ method: 'POST', url: '/v1/orgs', headers: t.root, payload: { name: uniqueName('res') } });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  const newEnv = async (orgId: string): Promise<string> => {
    const res = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/environments`, headers: t.root, payload: { display_name: uniqueName('env') } });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  const createResource = (orgId: string, body: unknown) =>
    t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/resources`, headers: t.root, payload: body as object });
  const newResource = async (orgId: string, envId: string, kind = 'kafka_cluster'): Promise<string> => {
    const res = await createResource(orgId, { kind, display_name: uniqueName(kind), environment_id: envId });
    assert.equal(res.statusCode, 201);
    return res.json().id;
  };
  const paths = (body: { errors: Array<{ path: string }> }) => body.errors.map((e) => e.path).sort();

  test('create answers 201 with the resource, its id prefixed by kind, and is audited', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const res = await createResource(orgId, { kind: 'kafka_cluster', display_name: 'orders', environment_id: envId, cloud: 'aws', region: 'us-east-2' });
    assert.equal(res.statusCode, 201);
    const resource = res.json();
    assert.match(resource.id, /^lkc-[a-z0-9]{10}$/);
    assert.deepEqual(
      { ...resource, id: undefined, created_at: undefined, updated_at: undefined },
      { id: undefined, kind: 'kafka_cluster', display_name: 'orders', environment_id: envId, cloud: 'aws', region: 'us-east-2', created_at: undefined, updated_at: undefined },
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

  test('invalid bodies are 422 naming every bad field, and create nothing', async () => {
    const orgId = await newOrg();
    const res = await createResource(orgId, { kind: 'mainframe', display_name: '', environment_id: 'lkc-abc', cloud: 'AWS!', region: 'us.east', extra: 1 });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(paths(res.json()), ['cloud', 'display_name', 'environment_id', 'extra', 'kind', 'region']);
    const missing = await createResource(orgId, {});
    assert.equal(missing.statusCode, 422);
    assert.deepEqual(paths(missing.json()), ['display_name', 'environment_id', 'kind']);
    assert.equal(await t.store.prisma.resource.count({ where: { orgId } }), 0);
  });

  test('an environment that is not in the organization is 422 naming environment_id', async () => {
    const orgId = await newOrg();
    const otherEnv = await newEnv(await newOrg());
    for (const environmentId of [otherEnv, 'env-doesnotexist']) {
      const res = await createResource(orgId, { kind: 'schema_registry', display_name: 'sr', environment_id: environmentId });
      assert.equal(res.statusCode, 422);
      assert.equal(res.json().code, 'validation_failed');
      assert.deepEqual(paths(res.json()), ['environment_id']);
      assert.match(res.json().detail, new RegExp(`${environmentId} is not an environment of organization ${orgId}`));
    }
    assert.equal(await t.store.prisma.resource.count({ where: { orgId } }), 0);
  });

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
    assert.deepEqual(events.map((e) => e.details), [{ fields: ['display_name', 'cloud', 'region'] }, { fields: ['region'] }]);
  });

  test('patch of kind or environment_id is 422 immutable_field naming each, and changes nothing', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const resourceId = await newResource(orgId, envId);
    const url = `/v1/orgs/${orgId}/resources/${resourceId}`;
    const kind = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { kind: 'schema_registry' } });
    assert.equal(kind.statusCode, 422);
    assert.equal(kind.json().code, 'immutable_field');
    assert.deepEqual(paths(kind.json()), ['kind']);
    const both = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { display_name: 'x', kind: 'kafka_cluster', environment_id: await newEnv(orgId) } });
    assert.equal(both.statusCode, 422);
    assert.equal(both.json().code, 'immutable_field');
    assert.deepEqual(paths(both.json()), ['environment_id', 'kind']);
    assert.match(both.json().detail, /create a new resource instead/);
    const unknown = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { display_name: '', colour: 'red' } });
    assert.equal(unknown.statusCode, 422);
    assert.equal(unknown.json().code, 'validation_failed');
    assert.deepEqual(paths(unknown.json()), ['colour', 'display_name']);
    const row = await t.store.prisma.resource.findUniqueOrThrow({ where: { id: resourceId } });
    assert.deepEqual([row.kind, row.environmentId], ['kafka_cluster', envId]);
    assert.equal(await t.store.prisma.auditEvent.count({ where: { orgId, action: 'resource.update' } }), 0);
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

  test('patch of another organization’s resource is 404', async () => {
    const orgId = await newOrg();
    const resourceId = await newResource(orgId, await newEnv(orgId));
    const res = await t.inject({ method: 'PATCH', url: `/v1/orgs/${await newOrg()}/resources/${resourceId}`, headers: t.root, payload: { display_name: 'stolen' } });
    assert.equal(res.statusCode, 404);
    assert.notEqual((await t.store.prisma.resource.findUniqueOrThrow({ where: { id: resourceId } })).displayName, 'stolen');
  });

  test('delete removes the resource, its API keys and the role bindings on it, and drops the keys from caches', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const resourceId = await newResource(orgId, envId);
    const keptId = await newResource(orgId, envId);
    const owner = await t.store.prisma.principal.create({ data: { id: newId('sa'), orgId, kind: 'service_account', displayName: uniqueName('sa') } });
    const apiKey = (resource: string) => ({ id: newApiKeyId(), orgId, ownerId: owner.id, type: 'resource' as const, resourceId: resource, secretHash: '$argon2id$fixture', secretHint: 'abcd' });
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
      const created = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/resources`, headers, payload: { kind: 'kafka_cluster', display_name: 'orders', environment_id: mine } });
      assert.equal(created.statusCode, 201);
      const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'resource.create', target: created.json().id } });
      assert.equal(event?.actor, admin.principalId);
      const elsewhere = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/resources`, headers, payload: { kind: 'kafka_cluster', display_name: 'x', environment_id: theirs } });
      assert.equal(elsewhere.statusCode, 403);
      const theirResource = await newResource(orgId, theirs);
      assert.equal((await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/resources/${theirResource}`, headers, payload: { display_name: 'x' } })).statusCode, 403);
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/resources/${theirResource}`, headers })).statusCode, 403);
      assert.equal((await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/resources/${created.json().id}`, headers, payload: { region: 'us-west-2' } })).statusCode, 200);
      assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/resources/${created.json().id}`, headers })).statusCode, 204);
      assert.deepEqual((await t.store.prisma.resource.findMany({ where: { orgId } })).map((r) => r.id), [theirResource]);
    });

    test('a CloudClusterAdmin updates its own resource only and may not create resources (403)', async () => {
      const orgId = await newOrg();
      const envId = await newEnv(orgId);
      const [mine, sibling] = [await newResource(orgId, envId), await newResource(orgId, envId)];
      const admin = await credentialFor(t, orgId, [{ role: 'CloudClusterAdmin', scope: { type: 'resource', id: mine } }]);
      const headers = { authorization: admin.authorization };
      assert.equal((await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/resources/${mine}`, headers, payload: { display_name: 'mine' } })).statusCode, 200);
      assert.equal((await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/resources/${sibling}`, headers, payload: { display_name: 'x' } })).statusCode, 403);
      const create = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/resources`, headers, payload: { kind: 'kafka_cluster', display_name: 'x', environment_id: envId } });
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
      assert.equal((await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/resources/${resourceId}`, headers, payload: { display_name: 'x' } })).statusCode, 403);
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
      const otherCreate = await t.inject({ method: 'POST', url: `/v1/orgs/${otherOrg}/resources`, headers, payload: { kind: 'kafka_cluster', display_name: 'x', environment_id: envId } });
      assert.equal(otherCreate.statusCode, 422, 'another organization’s environment is not one of its own');
      assert.equal(await t.store.prisma.resource.count({ where: { environmentId: envId } }), 1);
    });
  });
});
