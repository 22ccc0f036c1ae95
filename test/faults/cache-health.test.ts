import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { openStore, type Store } from '../../src/store/index.js';
import { startTestApp, uniqueName, type TestApp } from '../helpers/app.js';
import { createAsRoot, createCluster, createOrg, credentialFor } from '../helpers/principals.js';

// The caches obey the invalidation channel's health: while it is not proven alive (on Postgres, the
// LISTEN heartbeat is late), a revocation may have been missed, so nothing is served from memory.
// Here the missed notification is simulated on an embedded store (on both passes): the row is
// changed without NOTIFY and the bus is marked unhealthy, as the listener does. The real
// half-open connection is tested on Postgres in network-faults.test.ts.

describe('caches stop serving while the invalidation channel is unhealthy', () => {
  let store: Store;
  let t: TestApp;
  before(async () => {
    store = await openStore({ logger: pino({ level: 'silent' }) });
    t = await startTestApp({ store });
  });
  after(async () => {
    await t?.close();
    await store?.close();
  });

  test('verifier: a key revoked behind the cache is seen at once when unhealthy; caching resumes when healthy', async () => {
    const orgId = await createOrg(t);
    const { resourceId } = await createCluster(t, orgId);
    const owner = await createAsRoot(t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName() });
    const key = await createAsRoot(t, `/v1/orgs/${orgId}/api-keys`, { owner: owner.id, scope: { type: 'resource', resource_id: resourceId } });
    const payload = { key: key.id, secret: key.secret, resource_id: resourceId };
    const verify = async () => (await t.inject({ method: 'POST', url: '/v1/verify/api-key', headers: t.root, payload })).json().code;

    assert.equal(await verify(), 'VALID');
    // A revocation whose notification never arrives (what a half-open LISTEN connection loses).
    await store.prisma.apiKey.update({ where: { id: key.id }, data: { status: 'revoked', revokedAt: new Date() } });
    assert.equal(await verify(), 'VALID', 'healthy: served from the cache (the notification would have dropped it)');

    store.bus.setHealthy(false);
    assert.equal(await verify(), 'REVOKED', 'unhealthy: the cache is dropped');
    // Nor is anything cached while unhealthy: a key verified now and revoked behind the cache is seen.
    const during = await createAsRoot(t, `/v1/orgs/${orgId}/api-keys`, { owner: owner.id, scope: { type: 'resource', resource_id: resourceId } });
    const duringPayload = { key: during.id, secret: during.secret, resource_id: resourceId };
    const verifyDuring = async () => (await t.inject({ method: 'POST', url: '/v1/verify/api-key', headers: t.root, payload: duringPayload })).json().code;
    assert.equal(await verifyDuring(), 'VALID');
    assert.equal(await verifyDuring(), 'VALID');
    await store.prisma.apiKey.update({ where: { id: during.id }, data: { status: 'revoked', revokedAt: new Date() } });
    assert.equal(await verifyDuring(), 'REVOKED', 'unhealthy: nothing was cached');

    // Healthy again: caching resumes (a fresh key is cached; changing its row behind it does not show).
    store.bus.setHealthy(true);
    const other = await createAsRoot(t, `/v1/orgs/${orgId}/api-keys`, { owner: owner.id, scope: { type: 'resource', resource_id: resourceId } });
    const otherPayload = { key: other.id, secret: other.secret, resource_id: resourceId };
    assert.equal((await t.inject({ method: 'POST', url: '/v1/verify/api-key', headers: t.root, payload: otherPayload })).json().code, 'VALID');
    await store.prisma.apiKey.update({ where: { id: other.id }, data: { status: 'revoked', revokedAt: new Date() } });
    assert.equal((await t.inject({ method: 'POST', url: '/v1/verify/api-key', headers: t.root, payload: otherPayload })).json().code, 'VALID');
  });

  test('actor cache: nothing is cached while unhealthy, so a removed role binding applies at once', async () => {
    const orgId = await createOrg(t);
    const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const patch = () => t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}`, headers: { authorization: admin.authorization }, payload: { display_name: uniqueName() } });
    store.bus.setHealthy(false);
    try {
      assert.equal((await patch()).statusCode, 200);
      assert.equal((await patch()).statusCode, 200);
      // The binding disappears without a notification; nothing cached while unhealthy may hide it.
      await store.prisma.roleBinding.deleteMany({ where: { principalId: admin.principalId } });
      assert.equal((await patch()).statusCode, 403);
    } finally {
      store.bus.setHealthy(true);
    }
  });
});
