import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accessKeyLookupId, generateAccessKey } from '../../../src/crypto/tokens.js';
import { accessKeyFixtures } from '../../helpers/access-keys.js';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { credentialFor } from '../../helpers/principals.js';
import { wrongSecret } from '../../helpers/secrets.js';

describe('access keys', () => {
  const t = suiteApp(() => ({ env: { LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: '3', LATCHKEY_RATE_LIMITED_DELAY_MS: '0' } }));
  const { fluvioCluster, create, verify } = accessKeyFixtures(() => t);

  test('creates a simple key shown once, URL-safe and checksummed, stored only as lookup id and argon2id hash', async () => {
    const c = await fluvioCluster();
    const res = await create(c.base, { name: 'orders-consumer', topic: 'orders', consume: true });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json();
    assert.match(body.key, /^lka[A-Za-z0-9]{65}$/);
    assert.equal(encodeURIComponent(body.key), body.key);
    assert.ok(accessKeyLookupId(body.key));
    assert.deepEqual(
      { ...body, key: undefined, created_at: undefined },
      {
        name: 'orders-consumer',
        key: undefined,
        key_hint: body.key.slice(-4),
        protocol: 'simple',
        topic: 'orders',
        consume: true,
        produce: false,
        key_filter_remote: null,
        cluster_id: c.clusterId,
        created_by: 'root',
        created_at: undefined,
        rotated_at: null,
        last_used_at: null,
      },
    );
    const row = await t.store.prisma.accessKey.findFirstOrThrow({ where: { clusterId: c.clusterId } });
    assert.equal(row.id, accessKeyLookupId(body.key));
    assert.match(row.secretHash, /^\$argon2id\$/);
    assert.ok(!JSON.stringify(row).includes(body.key));

    const list = await t.inject({ method: 'GET', url: c.base, headers: t.root });
    assert.equal(list.statusCode, 200);
    assert.equal(list.json().data.length, 1);
    assert.equal(list.json().data[0].key_hint, body.key.slice(-4));
    assert.ok(!list.body.includes(body.key));
    const one = await t.inject({ method: 'GET', url: `${c.base}/orders-consumer`, headers: t.root });
    assert.equal(one.statusCode, 200);
    assert.equal(one.json().key, undefined);

    const audit = await t.inject({ method: 'GET', url: `/v1/orgs/${c.orgId}/audit-events?action=access_key.created`, headers: t.root });
    assert.equal(audit.json().data.length, 1);
    assert.equal(audit.json().data[0].details.name, 'orders-consumer');
    assert.ok(!audit.body.includes(body.key));
    assert.ok(!t.logs.join('\n').includes(body.key), 'the key is never logged');
  });

  test('protocol and flag combinations', async () => {
    const c = await fluvioCluster();
    const cases: Array<[object, { protocol: string; topic: string | null; consume: boolean; produce: boolean }]> = [
      [{ topic: 'a' }, { protocol: 'simple', topic: 'a', consume: true, produce: true }],
      [
        { topic: 'a', consume: true },
        { protocol: 'simple', topic: 'a', consume: true, produce: false },
      ],
      [
        { topic: 'a', produce: true },
        { protocol: 'simple', topic: 'a', consume: false, produce: true },
      ],
      [
        { topic: 'a', consume: true, produce: true },
        { protocol: 'simple', topic: 'a', consume: true, produce: true },
      ],
      [
        { topic: 'a', consume: false },
        { protocol: 'simple', topic: 'a', consume: false, produce: true },
      ],
      [
        { protocol: 'simple', topic: 'a-1' },
        { protocol: 'simple', topic: 'a-1', consume: true, produce: true },
      ],
      [{ protocol: 'fluvio' }, { protocol: 'fluvio', topic: null, consume: true, produce: true }],
    ];
    for (const [i, [payload, expected]] of cases.entries()) {
      const res = await create(c.base, { name: `k${i}`, ...payload });
      assert.equal(res.statusCode, 201, res.body);
      const { protocol, topic, consume, produce } = res.json();
      assert.deepEqual({ protocol, topic, consume, produce }, expected, JSON.stringify(payload));
    }
  });

  test('verify: VALID with key, cluster and organization; INVALID for unknown, wrong, malformed and other organizations’ keys', async () => {
    const c = await fluvioCluster();
    const key = (await create(c.base, { name: 'k', topic: 'orders' })).json().key as string;
    const res = await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume', topic: 'orders' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      valid: true,
      code: 'VALID',
      key: { name: 'k', protocol: 'simple', topic: 'orders', consume: true, produce: true },
      cluster_id: c.clusterId,
      org_id: c.orgId,
    });
    const unknown = generateAccessKey(accessKeyLookupId(generateAccessKey('AAAAAAAAAAAAAAAA'))!);
    for (const access_key of [unknown, generateAccessKey(accessKeyLookupId(key)!), wrongSecret(key), 'lka-not-a-key', '', key.toLowerCase()]) {
      const r = await verify({ access_key, cluster_id: c.clusterId, operation: 'consume' }, t.root, '10.9.0.1');
      assert.equal(r.statusCode, 200, r.body);
      assert.deepEqual(r.json(), { valid: false, code: 'INVALID' });
    }
    const theirs = await fluvioCluster();
    const verifier = await credentialFor(t, theirs.orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    assert.deepEqual((await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' }, { authorization: verifier.authorization })).json(), {
      valid: false,
      code: 'INVALID',
    });
    const mine = await credentialFor(t, c.orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    assert.equal(
      (await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' }, { authorization: mine.authorization })).json().code,
      'VALID',
    );
    const admin = await credentialFor(t, c.orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    assert.equal((await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' }, { authorization: admin.authorization })).statusCode, 403);
    assert.equal((await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' }, {})).statusCode, 401);
  });

  test('rotate without grace: the old key stops at once; with grace: both work, and a second rotation ends the first grace', async () => {
    const c = await fluvioCluster();
    const first = (await create(c.base, { name: 'r', topic: 'a' })).json().key as string;
    const ok = async (key: string) => (await verify({ access_key: key, cluster_id: c.clusterId, operation: 'produce' })).json().code;
    assert.equal(await ok(first), 'VALID');
    const rotated = await t.inject({ method: 'POST', url: `${c.base}/r/rotate`, headers: t.root, payload: {} });
    assert.equal(rotated.statusCode, 200, rotated.body);
    const second = rotated.json().key as string;
    assert.notEqual(second, first);
    assert.equal(rotated.json().key_hint, second.slice(-4));
    assert.equal(rotated.json().previous_key_expires_at, null);
    assert.ok(rotated.json().rotated_at);
    assert.equal(await ok(first), 'INVALID');
    assert.equal(await ok(second), 'VALID');

    const graced = await t.inject({ method: 'POST', url: `${c.base}/r/rotate`, headers: t.root, payload: { grace_period_seconds: 3600 } });
    const third = graced.json().key as string;
    const until = Date.parse(graced.json().previous_key_expires_at);
    assert.ok(Math.abs(until - (Date.now() + 3600_000)) < 60_000);
    assert.equal(await ok(second), 'VALID');
    assert.equal(await ok(third), 'VALID');

    const fourth = (await t.inject({ method: 'POST', url: `${c.base}/r/rotate`, headers: t.root, payload: { grace_period_seconds: 60 } })).json().key as string;
    assert.equal(await ok(second), 'INVALID', 'the first grace ended with the second rotation');
    assert.equal(await ok(third), 'VALID');
    assert.equal(await ok(fourth), 'VALID');

    for (const grace of [-1, 86_401, 1.5, '10']) {
      const bad = await t.inject({ method: 'POST', url: `${c.base}/r/rotate`, headers: t.root, payload: { grace_period_seconds: grace } });
      assert.equal(bad.statusCode, 422);
      assert.equal(bad.json().errors[0].path, 'grace_period_seconds');
    }
    const audit = await t.inject({ method: 'GET', url: `/v1/orgs/${c.orgId}/audit-events?action=access_key.rotated`, headers: t.root });
    assert.equal(audit.json().data.length, 3);
  });

  test('the grace ends on time: an expired previous key is INVALID', async () => {
    const c = await fluvioCluster();
    const old = (await create(c.base, { name: 'g', topic: 'a' })).json().key as string;
    await t.inject({ method: 'POST', url: `${c.base}/g/rotate`, headers: t.root, payload: { grace_period_seconds: 1 } });
    assert.equal((await verify({ access_key: old, cluster_id: c.clusterId, operation: 'consume' })).json().code, 'VALID');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await verify({ access_key: old, cluster_id: c.clusterId, operation: 'consume' })).json().code, 'INVALID');
  });

  test('delete: 204, the key stops verifying at once, audit access_key.deleted; again 404', async () => {
    const c = await fluvioCluster();
    const key = (await create(c.base, { name: 'd', topic: 'a' })).json().key as string;
    assert.equal((await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' })).json().code, 'VALID');
    assert.equal((await t.inject({ method: 'DELETE', url: `${c.base}/d`, headers: t.root })).statusCode, 204);
    assert.equal((await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' })).json().code, 'INVALID');
    assert.equal((await t.inject({ method: 'DELETE', url: `${c.base}/d`, headers: t.root })).statusCode, 404);
    const audit = await t.inject({ method: 'GET', url: `/v1/orgs/${c.orgId}/audit-events?action=access_key.deleted`, headers: t.root });
    assert.equal(audit.json().data.length, 1);
  });

  test('deleting the cluster deletes its keys, and they stop verifying', async () => {
    const c = await fluvioCluster();
    const key = (await create(c.base, { name: 'x', topic: 'a' })).json().key as string;
    assert.equal((await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' })).json().code, 'VALID');
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${c.orgId}/resources/${c.clusterId}`, headers: t.root });
    assert.equal(res.statusCode, 204);
    assert.equal(await t.store.prisma.accessKey.count({ where: { clusterId: c.clusterId } }), 0);
    assert.equal((await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' })).json().code, 'INVALID');
  });

  test('usage is recorded in last_used_at', async () => {
    const c = await fluvioCluster();
    const key = (await create(c.base, { name: 'u', topic: 'a' })).json().key as string;
    await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' });
    let lastUsed: string | null = null;
    for (let i = 0; i < 40 && !lastUsed; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      lastUsed = (await t.inject({ method: 'GET', url: `${c.base}/u`, headers: t.root })).json().last_used_at;
    }
    assert.ok(lastUsed && Date.now() - Date.parse(lastUsed) < 10_000);
  });

  test('lists paginate', async () => {
    const c = await fluvioCluster();
    for (let i = 0; i < 3; i++) await create(c.base, { name: uniqueName('p').toLowerCase(), topic: 'a' });
    const first = (await t.inject({ method: 'GET', url: `${c.base}?page_size=2`, headers: t.root })).json();
    assert.equal(first.data.length, 2);
    const second = (await t.inject({ method: 'GET', url: `${c.base}?page_size=2&page_token=${first.next_page_token}`, headers: t.root })).json();
    assert.equal(second.data.length, 1);
    assert.equal(second.next_page_token, null);
  });
});
