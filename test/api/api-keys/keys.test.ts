import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiKeyFixtures } from '../../helpers/api-keys.js';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { createAsRoot } from '../../helpers/principals.js';

describe('API keys', () => {
  const t = suiteApp();
  const { setup, createKey, verify } = apiKeyFixtures(() => t);

  test('creates a resource key whose secret is shown once and stored only as an argon2id hash', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const res = await createKey(orgId, {
      owner: ownerId,
      scope: { type: 'resource', resource_id: resourceId },
      display_name: 'orders-producer',
      description: 'CI',
    });
    assert.equal(res.statusCode, 201, res.body);
    const key = res.json();
    assert.match(key.id, /^[A-Z0-9]{16}$/);
    assert.match(key.secret, /^lks_[0-9A-Za-z]{49}$/);
    assert.equal(key.secret_hint, key.secret.slice(-4));
    assert.deepEqual(key.owner, { id: ownerId, type: 'service_account' });
    assert.deepEqual(key.scope, { type: 'resource', resource_id: resourceId });
    assert.equal(key.status, 'active');

    const row = await t.store.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    assert.match(row.secretHash, /^\$argon2id\$/);
    assert.ok(!JSON.stringify(row).includes(key.secret));

    const get = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: t.root });
    assert.equal(get.statusCode, 200);
    assert.equal(get.json().secret, undefined);
    assert.ok(!get.body.includes(key.secret));

    const audit = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/audit-events?action=api_key.create&target=${key.id}`, headers: t.root });
    assert.equal(audit.json().data.length, 1);
  });

  test('cloud and Flink keys verify against their own scope only', async () => {
    const { orgId, environmentId, ownerId } = await setup();
    const cloud = (await createKey(orgId, { owner: ownerId, scope: { type: 'cloud' } })).json();
    const flink = (
      await createKey(orgId, { owner: ownerId, scope: { type: 'flink', environment_id: environmentId, cloud: 'aws', region: 'us-east-2' } })
    ).json();
    assert.equal((await verify(cloud.id, cloud.secret, 'cloud')).json().code, 'VALID');
    assert.equal((await verify(flink.id, flink.secret, `${environmentId}.aws.us-east-2`)).json().code, 'VALID');
    assert.equal((await verify(flink.id, flink.secret, `${environmentId}.aws.us-west-2`)).json().code, 'WRONG_RESOURCE');
    assert.equal((await verify(cloud.id, cloud.secret, environmentId)).json().code, 'WRONG_RESOURCE');
  });

  test('rotate keeps the old secret valid for the grace period and returns a new secret once', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId } })).json();
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'VALID');
    const res = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/api-keys/${key.id}/rotate`,
      headers: t.root,
      payload: { grace_period_seconds: 3600 },
    });
    assert.equal(res.statusCode, 200, res.body);
    const rotated = res.json();
    assert.notEqual(rotated.secret, key.secret);
    assert.equal(rotated.secret_hint, rotated.secret.slice(-4));
    const deadline = Date.parse(rotated.previous_secret_expires_at) - Date.now();
    assert.ok(deadline > 3500_000 && deadline <= 3600_000, `grace ends in about an hour (${deadline} ms)`);
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'VALID');
    assert.equal((await verify(key.id, rotated.secret, resourceId)).json().code, 'VALID');
  });

  test('rotate without grace ends the old secret at once; grace never outlives the key', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const expiresAt = new Date(Date.now() + 120_000).toISOString();
    const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId }, expires_at: expiresAt })).json();
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'VALID');
    const noGrace = (await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${key.id}/rotate`, headers: t.root, payload: {} })).json();
    assert.equal(noGrace.previous_secret_expires_at, null);
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'INVALID');
    const capped = (
      await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${key.id}/rotate`, headers: t.root, payload: { grace_period_seconds: 86400 } })
    ).json();
    assert.equal(capped.previous_secret_expires_at, expiresAt);
    const bad = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/api-keys/${key.id}/rotate`,
      headers: t.root,
      payload: { grace_period_seconds: 86401 },
    });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().errors[0].path, 'grace_period_seconds');
  });

  test('concurrent deletes of one key revoke it once and write one audit event', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId } })).json();
    const results = await Promise.all(
      Array.from({ length: 8 }, () => t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: t.root })),
    );
    assert.deepEqual(
      results.map((r) => r.statusCode),
      Array(8).fill(204),
    );
    assert.equal(await t.store.prisma.auditEvent.count({ where: { orgId, target: key.id, action: 'api_key.delete' } }), 1);
  });

  test('delete revokes: the right secret then answers REVOKED, a wrong one INVALID, and the key shows as revoked', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId } })).json();
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'VALID');
    const del = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: t.root });
    assert.equal(del.statusCode, 204);
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'REVOKED');
    const wrong = `${key.secret.slice(0, -10)}AAAAAAAAAA`;
    assert.equal((await verify(key.id, wrong, resourceId)).json().code, 'INVALID');
    const list = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys?status=revoked`, headers: t.root });
    assert.deepEqual(
      list.json().data.map((k: { id: string }) => k.id),
      [key.id],
    );
    assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: t.root })).statusCode, 204);
    const rotate = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${key.id}/rotate`, headers: t.root, payload: {} });
    assert.equal(rotate.statusCode, 409);
  });

  test('an expired key verifies as EXPIRED', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const key = (
      await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId }, expires_at: new Date(Date.now() + 60_000).toISOString() })
    ).json();
    await t.store.prisma.apiKey.update({ where: { id: key.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'EXPIRED');
    const list = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys?status=expired`, headers: t.root });
    assert.deepEqual(
      list.json().data.map((k: { id: string }) => k.id),
      [key.id],
    );
  });

  test('lists with filters and pages without repeats', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const other = await createAsRoot(t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName() });
    for (let i = 0; i < 3; i++) await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId } });
    await createKey(orgId, { owner: other.id, scope: { type: 'cloud' } });
    const byOwner = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys?owner=${ownerId}&page_size=2`, headers: t.root });
    assert.equal(byOwner.json().data.length, 2);
    const next = await t.inject({
      method: 'GET',
      url: `/v1/orgs/${orgId}/api-keys?owner=${ownerId}&page_size=2&page_token=${byOwner.json().next_page_token}`,
      headers: t.root,
    });
    assert.equal(next.json().data.length, 1);
    assert.equal(next.json().next_page_token, null);
    const ids = [...byOwner.json().data, ...next.json().data].map((k: { id: string }) => k.id);
    assert.equal(new Set(ids).size, 3);
    const cloud = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys?type=cloud`, headers: t.root });
    assert.deepEqual(
      cloud.json().data.map((k: { owner: { id: string } }) => k.owner.id),
      [other.id],
    );
    const byResource = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys?resource_id=${resourceId}`, headers: t.root });
    assert.equal(byResource.json().data.length, 3);
  });

  test('GET /v1/flink-regions lists the catalog', async () => {
    const res = await t.inject({ method: 'GET', url: '/v1/flink-regions', headers: t.root });
    assert.equal(res.statusCode, 200);
    assert.ok(res.json().data.some((r: { id: string }) => r.id === 'aws.us-east-2'));
  });
});
