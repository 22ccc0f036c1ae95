import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { accessKeyLookupId } from '../../src/crypto/tokens.js';
import { lookupIdOf } from '../../src/modules/clients/service.js';
import { openStore, type Store } from '../../src/store/index.js';
import { startTestApp, TEST_DATABASE_URL, type TestApp, uniqueName } from '../helpers/app.js';
import { createClusterKey, decodeJwt, pulsarSetup, verifyCode } from '../helpers/cluster-keys.js';
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
    await store.prisma.apiKey.update({ where: { id: key.id }, data: { status: 'revoked' } });
    assert.equal(await verify(), 'VALID', 'healthy: served from the cache (the notification would have dropped it)');

    store.bus.setHealthy(false);
    assert.equal(await verify(), 'REVOKED', 'unhealthy: the cache is dropped');
    // Nor is anything cached while unhealthy: a key verified now and revoked behind the cache is seen.
    const during = await createAsRoot(t, `/v1/orgs/${orgId}/api-keys`, { owner: owner.id, scope: { type: 'resource', resource_id: resourceId } });
    const duringPayload = { key: during.id, secret: during.secret, resource_id: resourceId };
    const verifyDuring = async () => (await t.inject({ method: 'POST', url: '/v1/verify/api-key', headers: t.root, payload: duringPayload })).json().code;
    assert.equal(await verifyDuring(), 'VALID');
    assert.equal(await verifyDuring(), 'VALID');
    await store.prisma.apiKey.update({ where: { id: during.id }, data: { status: 'revoked' } });
    assert.equal(await verifyDuring(), 'REVOKED', 'unhealthy: nothing was cached');

    // Healthy again: caching resumes (a fresh key is cached; changing its row behind it does not show).
    store.bus.setHealthy(true);
    const other = await createAsRoot(t, `/v1/orgs/${orgId}/api-keys`, { owner: owner.id, scope: { type: 'resource', resource_id: resourceId } });
    const otherPayload = { key: other.id, secret: other.secret, resource_id: resourceId };
    assert.equal((await t.inject({ method: 'POST', url: '/v1/verify/api-key', headers: t.root, payload: otherPayload })).json().code, 'VALID');
    await store.prisma.apiKey.update({ where: { id: other.id }, data: { status: 'revoked' } });
    assert.equal((await t.inject({ method: 'POST', url: '/v1/verify/api-key', headers: t.root, payload: otherPayload })).json().code, 'VALID');
  });

  test('actor cache: nothing is cached while unhealthy, so a removed role binding applies at once', async () => {
    const orgId = await createOrg(t);
    const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const patch = () =>
      t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}`, headers: { authorization: admin.authorization }, payload: { display_name: uniqueName() } });
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

// The same rule for every other credential family's cache, on this pass's store (PGlite, or
// Postgres with DATABASE_URL). The listener's heartbeat is pushed out of the test's way so that
// only the test decides the channel's health; real NOTIFYs still arrive on Postgres.
describe('every credential family’s cache obeys the invalidation channel’s health', () => {
  let store: Store;
  let t: TestApp;
  before(async () => {
    store = await openStore({ databaseUrl: TEST_DATABASE_URL, logger: pino({ level: 'silent' }), limits: { heartbeatIntervalMs: 3_600_000 } });
    t = await startTestApp({ store });
  });
  after(async () => {
    await t?.close();
    await store?.close();
  });

  test('access keys: a key deleted behind the cache is seen at once when unhealthy; nothing is cached meanwhile; caching resumes when healthy', async () => {
    const orgId = await createOrg(t);
    const { resourceId: clusterId } = await createCluster(t, orgId, 'fluvio_cluster');
    const base = `/v1/orgs/${orgId}/resources/${clusterId}/access-keys`;
    const create = async () =>
      (await t.inject({ method: 'POST', url: base, headers: t.root, payload: { name: uniqueName('ak').toLowerCase(), topic: 'a' } })).json().key as string;
    const verify = async (key: string) =>
      (
        await t.inject({
          method: 'POST',
          url: '/v1/verify/access-key',
          headers: t.root,
          payload: { access_key: key, cluster_id: clusterId, operation: 'consume' },
        })
      ).json().code;
    const deleteBehind = (key: string) => store.prisma.accessKey.deleteMany({ where: { id: accessKeyLookupId(key)! } });

    const cached = await create();
    assert.equal(await verify(cached), 'VALID');
    await deleteBehind(cached);
    assert.equal(await verify(cached), 'VALID', 'healthy: served from the cache (the notification would have dropped it)');

    store.bus.setHealthy(false);
    try {
      assert.equal(await verify(cached), 'INVALID', 'unhealthy: the cache is not served');
      const during = await create();
      assert.equal(await verify(during), 'VALID');
      assert.equal(await verify(during), 'VALID');
      await deleteBehind(during);
      assert.equal(await verify(during), 'INVALID', 'unhealthy: nothing was cached');
    } finally {
      store.bus.setHealthy(true);
    }

    const later = await create();
    assert.equal(await verify(later), 'VALID');
    await deleteBehind(later);
    assert.equal(await verify(later), 'VALID', 'healthy again: caching resumed');
  });

  test('cluster keys: no token is served from or added to the cache while unhealthy, and revocation is read from the store', async () => {
    const orgId = await createOrg(t);
    const setup = await pulsarSetup(t, orgId);
    const create = async () => {
      const key = await createClusterKey(t, orgId, { owner: setup.ownerId, cluster_id: setup.clusterId });
      return { token: key.token as string, jti: decodeJwt(key.token).payload.jti as string };
    };
    const revokeBehind = (jti: string) => store.prisma.clusterKey.update({ where: { id: jti }, data: { revokedAt: new Date() } });
    const deleteBehind = (jti: string) => store.prisma.clusterKey.deleteMany({ where: { id: jti } });

    // Healthy: the token and the organization's revocation set are cached, so changes behind them do not show.
    const cached = await create();
    const revoked = await create();
    assert.equal(await verifyCode(t, cached.token, setup.clusterId), 'VALID');
    assert.equal(await verifyCode(t, revoked.token, setup.clusterId), 'VALID');
    await deleteBehind(cached.jti);
    await revokeBehind(revoked.jti);
    assert.equal(await verifyCode(t, cached.token, setup.clusterId), 'VALID', 'healthy: the token is served from the cache');
    assert.equal(await verifyCode(t, revoked.token, setup.clusterId), 'VALID', 'healthy: the revocation set is cached');

    store.bus.setHealthy(false);
    try {
      assert.equal(await verifyCode(t, cached.token, setup.clusterId), 'INVALID', 'unhealthy: the cached token is not served');
      assert.equal(await verifyCode(t, revoked.token, setup.clusterId), 'REVOKED', 'unhealthy: revocation is read from the store');
      const during = await create();
      assert.equal(await verifyCode(t, during.token, setup.clusterId), 'VALID');
      assert.equal(await verifyCode(t, during.token, setup.clusterId), 'VALID');
      await revokeBehind(during.jti);
      assert.equal(await verifyCode(t, during.token, setup.clusterId), 'REVOKED', 'unhealthy: no revocation set was kept');
      const deleted = await create();
      assert.equal(await verifyCode(t, deleted.token, setup.clusterId), 'VALID');
      await deleteBehind(deleted.jti);
      assert.equal(await verifyCode(t, deleted.token, setup.clusterId), 'INVALID', 'unhealthy: no token was cached');
    } finally {
      store.bus.setHealthy(true);
    }

    // Healthy again: caching resumes, and the revocation set is reloaded after every 'all'.
    const later = await create();
    assert.equal(await verifyCode(t, later.token, setup.clusterId), 'VALID');
    await revokeBehind(later.jti);
    assert.equal(await verifyCode(t, later.token, setup.clusterId), 'VALID', 'healthy: the reloaded set is cached again');
    store.bus.deliver('all');
    assert.equal(await verifyCode(t, later.token, setup.clusterId), 'REVOKED', "after 'all' the revocation set is reloaded");
  });

  test('kdb client details: nothing is served from or added to the cache while unhealthy', async () => {
    const orgId = await createOrg(t);
    const env = await createAsRoot(t, `/v1/orgs/${orgId}/environments`, { display_name: uniqueName('env') });
    const deployment = await createAsRoot(t, `/v1/orgs/${orgId}/resources`, { kind: 'kdb_insights', display_name: uniqueName('kx'), environment_id: env.id });
    const enrol = async () => {
      const res = await t.inject({
        method: 'POST',
        url: `/clientcontroller/enrol?resource_id=${deployment.id}`,
        headers: { ...t.root, 'content-type': 'application/x-www-form-urlencoded' },
        payload: JSON.stringify({ name: uniqueName('client'), topics: { insert: 'data', query: 'requests' } }),
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json().url as string;
    };
    const details = async (clientId: string) => (await t.inject({ method: 'GET', url: `/informationservice/details/${clientId}` })).statusCode;
    const leaveBehind = (clientId: string) =>
      store.prisma.clientEnrollment.deleteMany({ where: { lookupId: lookupIdOf(t.config.LATCHKEY_MASTER_KEY!, clientId) } });

    const cached = await enrol();
    assert.equal(await details(cached), 200);
    await leaveBehind(cached);
    assert.equal(await details(cached), 200, 'healthy: served from the cache');

    store.bus.setHealthy(false);
    try {
      assert.equal(await details(cached), 404, 'unhealthy: the cache is not served');
      const during = await enrol();
      assert.equal(await details(during), 200);
      assert.equal(await details(during), 200);
      await leaveBehind(during);
      assert.equal(await details(during), 404, 'unhealthy: nothing was cached');
    } finally {
      store.bus.setHealthy(true);
    }

    const later = await enrol();
    assert.equal(await details(later), 200);
    await leaveBehind(later);
    assert.equal(await details(later), 200, 'healthy again: caching resumed');
  });
});
