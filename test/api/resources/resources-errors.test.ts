import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { paths } from '../../helpers/problems.js';
import { resourceFixtures } from '../../helpers/resources.js';

describe('resources: errors', () => {
  const t = suiteApp();
  const { newOrg, newEnv, createResource, newResource } = resourceFixtures(() => t);

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

  test('patch of kind or environment_id is 422 immutable_field naming each, and changes nothing', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const resourceId = await newResource(orgId, envId);
    const url = `/v1/orgs/${orgId}/resources/${resourceId}`;
    const kind = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { kind: 'schema_registry' } });
    assert.equal(kind.statusCode, 422);
    assert.equal(kind.json().code, 'immutable_field');
    assert.deepEqual(paths(kind.json()), ['kind']);
    const both = await t.inject({
      method: 'PATCH',
      url,
      headers: t.root,
      payload: { display_name: 'x', kind: 'kafka_cluster', environment_id: await newEnv(orgId) },
    });
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
});
