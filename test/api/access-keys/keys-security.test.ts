import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accessKeyLookupId, generateAccessKey } from '../../../src/crypto/tokens.js';
import { accessKeyFixtures } from '../../helpers/access-keys.js';
import { startTestApp, suiteApp } from '../../helpers/app.js';
import { createCluster, createOrg, credentialFor } from '../../helpers/principals.js';
import { wrongSecret } from '../../helpers/secrets.js';

describe('access keys: security', () => {
  const t = suiteApp(() => ({ env: { LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: '3', LATCHKEY_RATE_LIMITED_DELAY_MS: '0' } }));
  const { fluvioCluster, create, verify } = accessKeyFixtures(() => t);

  test('OrganizationAdmin, EnvironmentAdmin of the environment, CloudClusterAdmin or DeveloperManage on the cluster may manage; others 403', async () => {
    const c = await fluvioCluster();
    const otherEnv = await createCluster(t, c.orgId, 'fluvio_cluster');
    const allowed = [
      [{ role: 'OrganizationAdmin', scope: { type: 'organization' as const } }],
      [{ role: 'EnvironmentAdmin', scope: { type: 'environment' as const, id: c.environmentId } }],
      [{ role: 'CloudClusterAdmin', scope: { type: 'resource' as const, id: c.clusterId } }],
      [{ role: 'DeveloperManage', scope: { type: 'resource' as const, id: c.clusterId } }],
    ];
    for (const [i, bindings] of allowed.entries()) {
      const who = await credentialFor(t, c.orgId, bindings);
      const headers = { authorization: who.authorization };
      const res = await create(c.base, { name: `by-${i}`, topic: 'a' }, headers);
      assert.equal(res.statusCode, 201, `${bindings[0]!.role}: ${res.body}`);
      assert.equal(res.json().created_by, who.principalId);
      assert.equal((await t.inject({ method: 'POST', url: `${c.base}/by-${i}/rotate`, headers, payload: {} })).statusCode, 200);
      assert.equal((await t.inject({ method: 'DELETE', url: `${c.base}/by-${i}`, headers })).statusCode, 204);
    }
    const refused = [
      [],
      [{ role: 'EnvironmentAdmin', scope: { type: 'environment' as const, id: otherEnv.environmentId } }],
      [{ role: 'CloudClusterAdmin', scope: { type: 'resource' as const, id: otherEnv.resourceId } }],
      [{ role: 'DeveloperRead', scope: { type: 'resource' as const, id: c.clusterId } }],
      [{ role: 'Verifier', scope: { type: 'organization' as const } }],
    ];
    await create(c.base, { name: 'kept', topic: 'a' });
    for (const bindings of refused) {
      const who = await credentialFor(t, c.orgId, bindings);
      const headers = { authorization: who.authorization };
      assert.equal((await create(c.base, { name: 'nope', topic: 'a' }, headers)).statusCode, 403, JSON.stringify(bindings));
      assert.equal((await t.inject({ method: 'DELETE', url: `${c.base}/kept`, headers })).statusCode, 403);
    }
    assert.equal((await t.inject({ method: 'GET', url: c.base })).statusCode, 401);
  });

  test('verify: WRONG_RESOURCE and FORBIDDEN only once the key matched', async () => {
    const c = await fluvioCluster();
    const consumeOnly = (await create(c.base, { name: 'c', topic: 'orders', consume: true })).json().key as string;
    const produceOnly = (await create(c.base, { name: 'p', topic: 'orders', produce: true })).json().key as string;
    const both = (await create(c.base, { name: 'b', topic: 'orders' })).json().key as string;
    const full = (await create(c.base, { name: 'f', protocol: 'fluvio' })).json().key as string;
    const code = async (access_key: string, operation: string, topic?: string, cluster_id = c.clusterId) =>
      (await verify({ access_key, cluster_id, operation, ...(topic ? { topic } : {}) })).json().code;
    assert.equal(await code(consumeOnly, 'consume', 'orders'), 'VALID');
    assert.equal(await code(consumeOnly, 'produce', 'orders'), 'FORBIDDEN');
    assert.equal(await code(consumeOnly, 'fluvio'), 'FORBIDDEN');
    assert.equal(await code(consumeOnly, 'consume', 'payments'), 'FORBIDDEN');
    assert.equal(await code(produceOnly, 'produce', 'orders'), 'VALID');
    assert.equal(await code(produceOnly, 'consume', 'orders'), 'FORBIDDEN');
    assert.equal(await code(both, 'produce'), 'VALID');
    assert.equal(await code(both, 'consume'), 'VALID');
    assert.equal(await code(full, 'fluvio'), 'VALID');
    assert.equal(await code(full, 'consume', 'anything'), 'VALID');
    assert.equal(await code(both, 'consume', 'orders', 'fc-elsewhere'), 'WRONG_RESOURCE');
    assert.equal(await code(wrongSecret(both), 'consume', 'orders', 'fc-elsewhere'), 'INVALID');
    assert.equal(await code(wrongSecret(consumeOnly), 'produce', 'orders'), 'INVALID');
  });

  test("failure limits count per (key, caller, address): another tenant's failures never lock the owner out", async () => {
    const c = await fluvioCluster();
    const key = (await create(c.base, { name: 'l', topic: 'a' })).json().key as string;
    const attacker = await fluvioCluster();
    const theirs = await credentialFor(t, attacker.orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    const wrong = generateAccessKey(accessKeyLookupId(key)!);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (await verify({ access_key: wrong, cluster_id: c.clusterId, operation: 'consume' }, { authorization: theirs.authorization }, '10.7.0.1')).statusCode,
      );
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429], 'the other tenant is throttled on this key');
    const limited = await verify({ access_key: wrong, cluster_id: c.clusterId, operation: 'consume' }, { authorization: theirs.authorization }, '10.7.0.1');
    assert.equal(limited.json().code, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) >= 1);

    // The owner's verifier never verified this key before: an uncached right key, same lookup id.
    const owner = await credentialFor(t, c.orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    const own = await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' }, { authorization: owner.authorization }, '10.7.0.2');
    assert.equal(own.statusCode, 200, own.body);
    assert.equal(own.json().code, 'VALID');
    // The owner's own failures are counted apart: a wrong key is INVALID, not 429.
    const ownWrong = await verify({ access_key: wrong, cluster_id: c.clusterId, operation: 'consume' }, { authorization: owner.authorization }, '10.7.0.2');
    assert.equal(ownWrong.statusCode, 200, ownWrong.body);
    assert.equal(ownWrong.json().code, 'INVALID');
  });

  test('a limited caller gets 429 for unknown keys but never for a key that matched before, even after its cache entry aged out', async () => {
    const short = await startTestApp({
      env: { LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: '3', LATCHKEY_VERIFY_CACHE_TTL_SECONDS: '1', LATCHKEY_RATE_LIMITED_DELAY_MS: '0' },
    });
    try {
      const orgId = await createOrg(short);
      const { resourceId: clusterId } = await createCluster(short, orgId, 'fluvio_cluster');
      const base = `/v1/orgs/${orgId}/resources/${clusterId}/access-keys`;
      const key = (await short.inject({ method: 'POST', url: base, headers: short.root, payload: { name: 'k', topic: 'a' } })).json().key as string;
      const ask = (accessKey: string, remoteAddress = '10.7.1.1') =>
        short.inject({
          method: 'POST',
          url: '/v1/verify/access-key',
          headers: short.root,
          remoteAddress,
          payload: { access_key: accessKey, cluster_id: clusterId, operation: 'consume' },
        });
      assert.equal((await ask(key)).json().code, 'VALID');
      const wrong = generateAccessKey(accessKeyLookupId(key)!);
      for (let i = 0; i < 3; i++) assert.equal((await ask(wrong)).json().code, 'INVALID');
      assert.equal((await ask(wrong)).statusCode, 429, 'wrong keys are throttled');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const right = await ask(key);
      assert.equal(right.statusCode, 200, right.body);
      assert.equal(right.json().code, 'VALID', 'a key that matched before is re-checked for a limited caller');
      assert.equal((await ask(wrong)).statusCode, 429);

      // A key never seen here costs a limited caller nothing and is refused until someone else verified it.
      const rotated = (await short.inject({ method: 'POST', url: `${base}/k/rotate`, headers: short.root, payload: {} })).json().key as string;
      assert.equal((await ask(rotated)).statusCode, 429);
      assert.equal((await ask(rotated, '10.7.1.2')).json().code, 'VALID');
      assert.equal((await ask(rotated)).json().code, 'VALID');
    } finally {
      await short.close();
    }
  });
});
