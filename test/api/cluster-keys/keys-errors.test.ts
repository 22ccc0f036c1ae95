import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { createClusterKey, decodeJwt, pulsarSetup, verifyCode } from '../../helpers/cluster-keys.js';
import { createAsRoot, createOrg } from '../../helpers/principals.js';

const DAY = 86_400_000;

describe('cluster keys: errors', () => {
  const t = suiteApp();

  const url = (orgId: string, rest = '') => `/v1/orgs/${orgId}/cluster-keys${rest}`;

  test('expires_at null never expires (no exp claim); a past expires_at is 422', async () => {
    const orgId = await createOrg(t);
    const { clusterId, ownerId } = await pulsarSetup(t, orgId);
    const forever = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId, expires_at: null });
    assert.equal(forever.expires_at, null);
    assert.equal(decodeJwt(forever.token).payload.exp, undefined);
    assert.equal(await verifyCode(t, forever.token, clusterId), 'VALID');

    const at = new Date(Date.now() + 3 * DAY).toISOString();
    const dated = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId, expires_at: at });
    assert.equal(decodeJwt(dated.token).payload.exp, Math.floor(Date.parse(at) / 1000));

    const past = await t.inject({
      method: 'POST',
      url: url(orgId),
      headers: t.root,
      payload: { name: 'late', owner: ownerId, cluster_id: clusterId, expires_at: '2020-01-01T00:00:00Z' },
    });
    assert.equal(past.statusCode, 422);
    assert.equal(past.json().errors[0].path, 'expires_at');
  });

  test("bad input is 422 naming the field and creates nothing; a user owner gets StreamNative's reason", async () => {
    const orgId = await createOrg(t);
    const { clusterId, ownerId, environmentId } = await pulsarSetup(t, orgId);
    const other = await pulsarSetup(t, await createOrg(t));
    const kafka = await createAsRoot(t, `/v1/orgs/${orgId}/resources`, { kind: 'kafka_cluster', display_name: uniqueName(), environment_id: environmentId });
    const user = await createAsRoot(t, `/v1/orgs/${orgId}/users`, { email: `${uniqueName()}@example.com` });
    const good = { name: 'k1', owner: ownerId, cluster_id: clusterId };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...good, owner: user.id }, 'owner'],
      [{ ...good, owner: other.ownerId }, 'owner'],
      [{ ...good, cluster_id: other.clusterId }, 'cluster_id'],
      [{ ...good, cluster_id: kafka.id }, 'cluster_id'],
      [{ ...good, name: '' }, 'name'],
      [{ ...good, name: 'a\u0000b' }, 'name'],
      [{ ...good, description: 'x\u0000y' }, 'description'],
      [{ ...good, description: 'x'.repeat(1025) }, 'description'],
      [{ ...good, expires_at: 'tomorrow' }, 'expires_at'],
      [{ ...good, token: 'mine' }, 'token'],
      [{ ...good, cluster_id: 'pc-\u0000' }, 'cluster_id'],
    ];
    for (const [payload, path] of cases) {
      const res = await t.inject({ method: 'POST', url: url(orgId), headers: t.root, payload });
      assert.equal(res.statusCode, 422, `${path}: ${res.body}`);
      assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
      assert.ok(
        res.json().errors.some((e: { path: string }) => e.path === path),
        `${path} named in ${res.body}`,
      );
    }
    const userOwned = await t.inject({ method: 'POST', url: url(orgId), headers: t.root, payload: { ...good, owner: user.id } });
    assert.match(userOwned.json().detail, /can only be created for service accounts/);
    assert.equal(await t.store.prisma.clusterKey.count({ where: { orgId } }), 0);
  });

  test('stray bytes in path and query ids are a 4xx, never a 5xx', async () => {
    const orgId = await createOrg(t);
    const urls = [
      `/v1/orgs/org-%00x/.well-known/jwks.json`,
      `/v1/orgs/org-%00x/.well-known/openid-configuration`,
      `/v1/orgs/org-%00x/cluster-keys/public-key.pem`,
      url(orgId, '/ck-%00'),
      url(orgId, '?owner=sa-%00'),
      url(orgId, '/revocations?cluster_id=pc-%00'),
      url('org-%C3%28'),
    ];
    for (const path of urls) {
      const res = await t.inject({ method: 'GET', url: path, headers: t.root });
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${path}: ${res.statusCode} ${res.body}`);
    }
  });

  test('a name is unique among listed keys (409), and free again once its key is deleted', async () => {
    const orgId = await createOrg(t);
    const { clusterId, ownerId } = await pulsarSetup(t, orgId);
    const first = await createClusterKey(t, orgId, { name: 'dup', owner: ownerId, cluster_id: clusterId });
    const again = await t.inject({ method: 'POST', url: url(orgId), headers: t.root, payload: { name: 'dup', owner: ownerId, cluster_id: clusterId } });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'name_taken');
    assert.equal((await t.inject({ method: 'DELETE', url: url(orgId, `/${first.id}`), headers: t.root })).statusCode, 204);
    await createClusterKey(t, orgId, { name: 'dup', owner: ownerId, cluster_id: clusterId });
  });

  test('PATCH is 405 problem+json: keys are immutable', async () => {
    const orgId = await createOrg(t);
    const { clusterId, ownerId } = await pulsarSetup(t, orgId);
    const key = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId });
    const res = await t.inject({ method: 'PATCH', url: url(orgId, `/${key.id}`), headers: t.root, payload: { name: 'renamed' } });
    assert.equal(res.statusCode, 405);
    assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
    assert.equal(res.json().code, 'method_not_allowed');
    assert.equal((await t.inject({ method: 'GET', url: url(orgId, `/${key.id}`), headers: t.root })).json().name, key.name);
  });
});
