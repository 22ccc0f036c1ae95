import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newApiKeyId, newId } from '../../../src/crypto/tokens.js';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { environmentFixtures } from '../../helpers/environments.js';

describe('environments: errors', () => {
  const t = suiteApp();
  const { newOrg, createEnv, newEnv, auditActions } = environmentFixtures(() => t);

  test('a display name already used in the organization is 409 name_taken; another organization may reuse it', async () => {
    const orgId = await newOrg();
    await newEnv(orgId, 'staging');
    const dup = await createEnv(orgId, { display_name: 'staging' });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'name_taken');
    assert.match(dup.json().detail, /staging/);
    assert.equal(await t.store.prisma.environment.count({ where: { orgId } }), 1);
    assert.equal((await createEnv(await newOrg(), { display_name: 'staging' })).statusCode, 201);
  });

  test('invalid bodies are 422 naming every bad field, and create nothing', async () => {
    const orgId = await newOrg();
    const res = await createEnv(orgId, { display_name: '', colour: 'red' });
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().code, 'validation_failed');
    assert.deepEqual(
      res
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
      ['colour', 'display_name'],
    );
    const missing = await createEnv(orgId, {});
    assert.equal(missing.statusCode, 422);
    assert.deepEqual(
      missing.json().errors.map((e: { path: string }) => e.path),
      ['display_name'],
    );
    assert.equal(await t.store.prisma.environment.count({ where: { orgId } }), 0);
  });

  test('an unknown organization is 404', async () => {
    const res = await createEnv('org-doesnotexist', { display_name: 'x' });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'not_found');
  });

  test('patch to a name in use is 409, unknown fields 422, another organization’s environment 404', async () => {
    const orgId = await newOrg();
    await newEnv(orgId, 'taken');
    const envId = await newEnv(orgId, 'mine');
    const url = `/v1/orgs/${orgId}/environments/${envId}`;
    const dup = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { display_name: 'taken' } });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'name_taken');
    const bad = await t.inject({ method: 'PATCH', url, headers: t.root, payload: { display_name: '', id: 'env-x' } });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(
      bad
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
      ['display_name', 'id'],
    );
    const cross = await t.inject({
      method: 'PATCH',
      url: `/v1/orgs/${await newOrg()}/environments/${envId}`,
      headers: t.root,
      payload: { display_name: 'stolen' },
    });
    assert.equal(cross.statusCode, 404);
    assert.equal((await t.store.prisma.environment.findUniqueOrThrow({ where: { id: envId } })).displayName, 'mine');
    assert.deepEqual(await auditActions(orgId, envId), ['environment.create']);
  });

  test('delete of an environment holding resources is 409 not_empty naming them', async () => {
    const orgId = await newOrg();
    const envId = await newEnv(orgId);
    const resource = await t.store.prisma.resource.create({
      data: { id: newId('lkc'), orgId, environmentId: envId, kind: 'kafka_cluster', displayName: 'orders' },
    });
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/environments/${envId}`, headers: t.root });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'not_empty');
    assert.match(res.json().detail, new RegExp(`1 resource\\(s\\) \\(${resource.id}\\)`));
    assert.match(res.json().detail, /delete them first/);
    assert.equal(await t.store.prisma.environment.count({ where: { id: envId } }), 1);
    assert.equal(await t.store.prisma.resource.count({ where: { environmentId: envId } }), 1);
  });

  test('delete of an environment holding Flink API keys is 409 not_empty naming the keys', async () => {
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
      },
    });
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/environments/${envId}`, headers: t.root });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'not_empty');
    assert.match(res.json().detail, new RegExp(`1 API key\\(s\\) \\(${keyId}\\)`));
    assert.equal(await t.store.prisma.apiKey.count({ where: { id: keyId } }), 1);
    assert.deepEqual(await auditActions(orgId, envId), ['environment.create']);
  });
});
