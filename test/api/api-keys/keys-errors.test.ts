import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiKeyFixtures } from '../../helpers/api-keys.js';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { createAsRoot, createOrg } from '../../helpers/principals.js';

describe('API keys: errors', () => {
  const t = suiteApp();
  const { setup, createKey, verify } = apiKeyFixtures(() => t);

  test('an unknown Flink region, a foreign resource, a pulsar cluster and a past expiry are 422 naming the field', async () => {
    const { orgId, environmentId, ownerId } = await setup();
    const other = await setup();
    const pulsar = await createAsRoot(t, `/v1/orgs/${orgId}/resources`, { kind: 'pulsar_cluster', display_name: uniqueName(), environment_id: environmentId });
    const cases: Array<[object, string]> = [
      [{ owner: ownerId, scope: { type: 'flink', environment_id: environmentId, cloud: 'aws', region: 'mars-1' } }, 'scope.region'],
      [{ owner: ownerId, scope: { type: 'resource', resource_id: other.resourceId } }, 'scope.resource_id'],
      [{ owner: ownerId, scope: { type: 'resource', resource_id: pulsar.id } }, 'scope.resource_id'],
      [{ owner: ownerId, scope: { type: 'cloud' }, expires_at: '2020-01-01T00:00:00Z' }, 'expires_at'],
      [{ owner: other.ownerId, scope: { type: 'cloud' } }, 'owner'],
      [{ owner: ownerId, scope: { type: 'cloud' }, secret: 'mine' }, 'secret'],
    ];
    for (const [payload, path] of cases) {
      const res = await createKey(orgId, payload);
      assert.equal(res.statusCode, 422, `${path}: ${res.body}`);
      assert.ok(
        res.json().errors.some((e: { path: string }) => e.path === path),
        `${path} named in ${res.body}`,
      );
    }
    assert.equal(await t.store.prisma.apiKey.count({ where: { orgId } }), 0);
  });

  test('PATCH changes display_name and description only; other fields are 422 immutable_field', async () => {
    const { orgId, ownerId } = await setup();
    const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'cloud' } })).json();
    const ok = await t.inject({
      method: 'PATCH',
      url: `/v1/orgs/${orgId}/api-keys/${key.id}`,
      headers: t.root,
      payload: { display_name: 'renamed', description: 'new' },
    });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().display_name, 'renamed');
    const bad = await t.inject({
      method: 'PATCH',
      url: `/v1/orgs/${orgId}/api-keys/${key.id}`,
      headers: t.root,
      payload: { display_name: 'x', owner: 'sa-other', scope: { type: 'cloud' } },
    });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().code, 'immutable_field');
    assert.deepEqual(
      bad
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
      ['owner', 'scope'],
    );
    const row = await t.store.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    assert.equal(row.displayName, 'renamed');
  });

  test('a second rotation while a grace period runs is 409 and keeps both secrets; without grace it ends every old secret', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId } })).json();
    const rotate = (payload: object) => t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${key.id}/rotate`, headers: t.root, payload });
    const first = await rotate({ grace_period_seconds: 3600 });
    assert.equal(first.statusCode, 200);
    const second = await rotate({ grace_period_seconds: 3600 });
    assert.equal(second.statusCode, 409, second.body);
    assert.equal(second.json().code, 'conflict');
    assert.match(second.json().detail, /grace_period_seconds/);
    assert.ok(!second.body.includes('lks_'), 'no secret in the refusal');
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'VALID', 'the first grace still runs');
    assert.equal((await verify(key.id, first.json().secret, resourceId)).json().code, 'VALID');
    const actions = await t.store.prisma.auditEvent.findMany({ where: { orgId, target: key.id, action: 'api_key.rotate' } });
    assert.equal(actions.length, 1, 'the refused rotation is not audited');

    const emergency = await rotate({ grace_period_seconds: 0 });
    assert.equal(emergency.statusCode, 200);
    assert.equal(emergency.json().previous_secret_expires_at, null);
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'INVALID');
    assert.equal((await verify(key.id, first.json().secret, resourceId)).json().code, 'INVALID');
    assert.equal((await verify(key.id, emergency.json().secret, resourceId)).json().code, 'VALID');
  });

  test('quota: the eleventh cloud key of a principal is 409 quota_exceeded (org setting lowers it)', async () => {
    const orgId = await createOrg(t, { cloud_key_quota: 2 });
    const sa = await createAsRoot(t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName() });
    const results = await Promise.all([0, 1, 2, 3].map(() => createKey(orgId, { owner: sa.id, scope: { type: 'cloud' } })));
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [201, 201, 409, 409]);
    assert.equal(results.find((r) => r.statusCode === 409)!.json().code, 'quota_exceeded');
    assert.equal(await t.store.prisma.apiKey.count({ where: { ownerId: sa.id } }), 2);
  });
});
