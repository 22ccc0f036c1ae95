import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { clusterKeyVerifyFixtures, pulsarSetup, verifyCode } from '../../helpers/cluster-keys.js';

describe('cluster key verification', () => {
  const t = suiteApp();
  const { keyAndForge } = clusterKeyVerifyFixtures(() => t);

  test('VALID answers the key, its owner and organization', async () => {
    const { orgId, clusterId, ownerId, key } = await keyAndForge();
    const res = await t.inject({ method: 'POST', url: '/v1/verify/cluster-key', headers: t.root, payload: { token: key.token, cluster_id: clusterId } });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      valid: true,
      code: 'VALID',
      key: { id: key.id, name: key.name, cluster_id: clusterId, expires_at: key.expires_at },
      principal: { id: ownerId, type: 'service_account' },
      org_id: orgId,
    });
    // A second answer comes from the cache and says the same.
    assert.equal(await verifyCode(t, key.token, clusterId), 'VALID');
    const signature = key.token.split('.')[2];
    assert.ok(!t.logs.some((line) => line.includes(signature)), 'the token is never logged');
  });

  test('EXPIRED as soon as now >= exp; nbf is forgiven up to 60 s, not more', async () => {
    const { clusterId, forge } = await keyAndForge();
    const now = Math.floor(Date.now() / 1000);
    assert.equal(await verifyCode(t, forge({ exp: now }), clusterId), 'EXPIRED');
    assert.equal(await verifyCode(t, forge({ exp: now - 30 }), clusterId), 'EXPIRED', 'no clock tolerance on exp');
    assert.equal(await verifyCode(t, forge({ exp: now + 3600 }), clusterId), 'VALID');
    assert.equal(await verifyCode(t, forge({ nbf: now + 30 }), clusterId), 'VALID', 'small skew on nbf is forgiven');
    assert.equal(await verifyCode(t, forge({ nbf: now + 600 }), clusterId), 'INVALID', 'not yet valid');
  });

  test('a token for another cluster is WRONG_RESOURCE; revoked is REVOKED at once, even when cached', async () => {
    const { orgId, clusterId, key } = await keyAndForge();
    const other = await pulsarSetup(t, orgId);
    assert.equal(await verifyCode(t, key.token, other.clusterId), 'WRONG_RESOURCE');
    assert.equal(await verifyCode(t, key.token, clusterId), 'VALID');
    const revoke = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/cluster-keys/${key.id}/revoke`, headers: t.root });
    assert.equal(revoke.statusCode, 200);
    assert.equal(await verifyCode(t, key.token, clusterId), 'REVOKED');
  });
});
