import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { serviceAccountFixtures } from '../../helpers/principals.js';
import { paths } from '../../helpers/problems.js';

describe('service accounts: errors', () => {
  const t = suiteApp();
  const { newOrg, createSa, newSa, addKey, hoursAgo } = serviceAccountFixtures(() => t);

  test('a display name already used in the organization is 409 name_taken', async () => {
    const orgId = await newOrg();
    await newSa(orgId, 'etl');
    const dup = await createSa(orgId, { display_name: 'etl', description: 'again' });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'name_taken');
    assert.match(dup.json().detail, /"etl"/);
    assert.equal(await t.store.prisma.principal.count({ where: { orgId } }), 1);
    assert.equal((await createSa(await newOrg(), { display_name: 'etl' })).statusCode, 201);
  });

  test('invalid bodies are 422 naming every bad field', async () => {
    const orgId = await newOrg();
    const res = await createSa(orgId, { display_name: '', description: 'x'.repeat(1025), email: 'a@b.co' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(paths(res.json()), ['description', 'display_name', 'email']);
    const missing = await createSa(orgId, {});
    assert.deepEqual(paths(missing.json()), ['display_name']);
    assert.equal(await t.store.prisma.principal.count({ where: { orgId } }), 0);
  });

  test('delete while a key was used within 24 hours is 409 recently_used naming the keys; ?force=true deletes', async () => {
    const orgId = await newOrg();
    const saId = await newSa(orgId);
    const recent = await addKey(orgId, saId, { lastUsedAt: hoursAgo(1) });
    await addKey(orgId, saId, { lastUsedAt: hoursAgo(25) });
    await addKey(orgId, saId, { lastUsedAt: hoursAgo(1), status: 'revoked' });
    const url = `/v1/orgs/${orgId}/service-accounts/${saId}`;
    const res = await t.inject({ method: 'DELETE', url, headers: t.root });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'recently_used');
    assert.deepEqual(res.json().key_ids, [recent]);
    assert.match(res.json().detail, new RegExp(`${recent}.*\\?force=true`));
    assert.equal(await t.store.prisma.apiKey.count({ where: { ownerId: saId } }), 3);
    assert.equal(await t.store.prisma.auditEvent.count({ where: { orgId, action: 'service_account.delete' } }), 0);

    const forced = await t.inject({ method: 'DELETE', url: `${url}?force=true`, headers: t.root });
    assert.equal(forced.statusCode, 204);
    assert.equal(await t.store.prisma.principal.count({ where: { id: saId } }), 0);
    const [event] = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'service_account.delete' } });
    assert.equal((event?.details as { force: boolean } | undefined)?.force, true);
  });

  test('delete of another organization’s service account is 404; a bad force value is 422', async () => {
    const orgId = await newOrg();
    const saId = await newSa(orgId);
    const cross = await t.inject({ method: 'DELETE', url: `/v1/orgs/${await newOrg()}/service-accounts/${saId}?force=true`, headers: t.root });
    assert.equal(cross.statusCode, 404);
    const bad = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${saId}?force=yes`, headers: t.root });
    assert.equal(bad.statusCode, 422);
    assert.deepEqual(paths(bad.json()), ['force']);
    assert.equal(await t.store.prisma.principal.count({ where: { id: saId } }), 1);
  });
});
