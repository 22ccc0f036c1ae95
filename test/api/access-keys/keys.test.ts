import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { accessKeyLookupId, generateAccessKey } from '../../../src/crypto/tokens.js';
import { startTestApp, uniqueName, type TestApp } from '../../helpers/app.js';
import { createCluster, createOrg, credentialFor } from '../../helpers/principals.js';
import { wrongSecret } from '../../helpers/secrets.js';

describe('access keys', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ env: { LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: '3', LATCHKEY_RATE_LIMITED_DELAY_MS: '0' } });
  });
  after(() => t.close());

  async function fluvioCluster() {
    const orgId = await createOrg(t);
    const { environmentId, resourceId } = await createCluster(t, orgId, 'fluvio_cluster');
    return { orgId, environmentId, clusterId: resourceId, base: `/v1/orgs/${orgId}/resources/${resourceId}/access-keys` };
  }

  const create = (base: string, payload: object, headers: Record<string, string> = t.root) => t.inject({ method: 'POST', url: base, headers, payload });
  const verify = (payload: object, headers: Record<string, string> = t.root, remoteAddress?: string) =>
    t.inject({ method: 'POST', url: '/v1/verify/access-key', headers, payload, ...(remoteAddress ? { remoteAddress } : {}) });

  test('creates a simple key shown once, URL-safe and checksummed, stored only as lookup id and argon2id hash', async () => {
    const c = await fluvioCluster();
    const res = await create(c.base, { name: 'orders-consumer', topic: 'orders', consume: true });
    assert.equal(res.statusCode, 201, res.body);
    const body = res.json();
    assert.match(body.key, /^lka[A-Za-z0-9]{65}$/);
    assert.equal(encodeURIComponent(body.key), body.key);
    assert.ok(accessKeyLookupId(body.key));
    assert.deepEqual({ ...body, key: undefined, created_at: undefined }, {
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
    });
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
      [{ topic: 'a', consume: true }, { protocol: 'simple', topic: 'a', consume: true, produce: false }],
      [{ topic: 'a', produce: true }, { protocol: 'simple', topic: 'a', consume: false, produce: true }],
      [{ topic: 'a', consume: true, produce: true }, { protocol: 'simple', topic: 'a', consume: true, produce: true }],
      [{ topic: 'a', consume: false }, { protocol: 'simple', topic: 'a', consume: false, produce: true }],
      [{ protocol: 'simple', topic: 'a-1' }, { protocol: 'simple', topic: 'a-1', consume: true, produce: true }],
      [{ protocol: 'fluvio' }, { protocol: 'fluvio', topic: null, consume: true, produce: true }],
    ];
    for (const [i, [payload, expected]] of cases.entries()) {
      const res = await create(c.base, { name: `k${i}`, ...payload });
      assert.equal(res.statusCode, 201, res.body);
      const { protocol, topic, consume, produce } = res.json();
      assert.deepEqual({ protocol, topic, consume, produce }, expected, JSON.stringify(payload));
    }
  });

  test('bad input is 422 naming the field, and nothing is created', async () => {
    const c = await fluvioCluster();
    const cases: Array<[object, string]> = [
      [{ name: 'Bad Name', topic: 'a' }, 'name'],
      [{ name: '-x', topic: 'a' }, 'name'],
      [{ name: 'x'.repeat(64), topic: 'a' }, 'name'],
      [{ name: 'ok\u0000', topic: 'a' }, 'name'],
      [{ name: 'ok' }, 'topic'],
      [{ name: 'ok', topic: 'Orders' }, 'topic'],
      [{ name: 'ok', topic: '-orders' }, 'topic'],
      [{ name: 'ok', topic: 'orders-' }, 'topic'],
      [{ name: 'ok', topic: 'o'.repeat(64) }, 'topic'],
      [{ name: 'ok', topic: 'a', consume: false, produce: false }, 'consume'],
      [{ name: 'ok', protocol: 'fluvio', topic: 'a' }, 'topic'],
      [{ name: 'ok', protocol: 'fluvio', consume: true }, 'consume'],
      [{ name: 'ok', protocol: 'fluvio', produce: true }, 'produce'],
      [{ name: 'ok', protocol: 'fluvio', key_filter_remote: 'p:https://example.com/' }, 'key_filter_remote'],
      [{ name: 'ok', protocol: 'kafka' }, 'protocol'],
      [{ name: 'ok', topic: 'a', produce: true, key_filter_remote: 'p:https://example.com/' }, 'key_filter_remote'],
      [{ name: 'ok', topic: 'a', key_filter_remote: 'access_key:https://example.com/' }, 'key_filter_remote'],
      [{ name: 'ok', topic: 'a', key_filter_remote: '1p:https://example.com/' }, 'key_filter_remote'],
      [{ name: 'ok', topic: 'a', key_filter_remote: 'https://example.com/' }, 'key_filter_remote'],
      [{ name: 'ok', topic: 'a', key_filter_remote: 'p:http://example.com/' }, 'key_filter_remote'],
      [{ name: 'ok', topic: 'a', key_filter_remote: 'p:https://user:pw@example.com/' }, 'key_filter_remote'],
      [{ name: 'ok', topic: 'a', key_filter_remote: 'p:https://example.com/#frag' }, 'key_filter_remote'],
      [{ name: 'ok', topic: 'a', key_filter_remote: `p:https://example.com/${'a'.repeat(2040)}` }, 'key_filter_remote'],
      [{ name: 'ok', topic: 'a', key_filter_remote: 'p:https://example.com/\u0000' }, 'key_filter_remote'],
      [{ name: 'ok', topic: 'a', key: 'mine' }, 'key'],
    ];
    for (const [payload, path] of cases) {
      const res = await create(c.base, payload);
      assert.equal(res.statusCode, 422, `${JSON.stringify(payload)}: ${res.body}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.ok(res.json().errors.some((e: { path: string }) => e.path === path), `${path} named in ${res.body}`);
    }
    assert.equal(await t.store.prisma.accessKey.count({ where: { clusterId: c.clusterId } }), 0);
  });

  test('a duplicate name on the same cluster is 409; the same name on another cluster is fine', async () => {
    const c = await fluvioCluster();
    assert.equal((await create(c.base, { name: 'dup', topic: 'a' })).statusCode, 201);
    const again = await create(c.base, { name: 'dup', topic: 'b' });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().code, 'name_taken');
    const other = await createCluster(t, c.orgId, 'fluvio_cluster');
    assert.equal((await create(`/v1/orgs/${c.orgId}/resources/${other.resourceId}/access-keys`, { name: 'dup', topic: 'a' })).statusCode, 201);
  });

  test('only fluvio clusters: another kind is 422, another organization’s cluster or an unknown one 404', async () => {
    const c = await fluvioCluster();
    const kafka = await createCluster(t, c.orgId, 'kafka_cluster');
    const res = await create(`/v1/orgs/${c.orgId}/resources/${kafka.resourceId}/access-keys`, { name: 'x', topic: 'a' });
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().errors[0].path, 'cluster_id');
    const theirs = await fluvioCluster();
    const admin = await credentialFor(t, c.orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const headers = { authorization: admin.authorization };
    assert.equal((await create(`/v1/orgs/${c.orgId}/resources/${theirs.clusterId}/access-keys`, { name: 'x', topic: 'a' }, headers)).statusCode, 404);
    assert.equal((await create(theirs.base, { name: 'x', topic: 'a' }, headers)).statusCode, 404);
    await create(theirs.base, { name: 'theirs', topic: 'a' });
    for (const [method, url] of [['GET', theirs.base], ['GET', `${theirs.base}/theirs`], ['DELETE', `${theirs.base}/theirs`], ['POST', `${theirs.base}/theirs/rotate`]] as const) {
      const r = await t.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) });
      assert.equal(r.statusCode, 404, `${method} ${url}`);
    }
    assert.equal((await t.inject({ method: 'GET', url: `${c.base}/nope`, headers: t.root })).statusCode, 404);
    assert.equal((await create(`/v1/orgs/${c.orgId}/resources/fc-unknown/access-keys`, { name: 'x', topic: 'a' })).statusCode, 404);
  });

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
    assert.deepEqual((await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' }, { authorization: verifier.authorization })).json(), { valid: false, code: 'INVALID' });
    const mine = await credentialFor(t, c.orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    assert.equal((await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' }, { authorization: mine.authorization })).json().code, 'VALID');
    const admin = await credentialFor(t, c.orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    assert.equal((await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' }, { authorization: admin.authorization })).statusCode, 403);
    assert.equal((await verify({ access_key: key, cluster_id: c.clusterId, operation: 'consume' }, {})).statusCode, 401);
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

  test('verify: bad input is 422 naming the fields', async () => {
    const res = await verify({ access_key: 'x', operation: 'delete', params: { 'a b': 'c' } });
    assert.equal(res.statusCode, 422);
    const paths = res.json().errors.map((e: { path: string }) => e.path);
    assert.ok(paths.includes('cluster_id') && paths.includes('operation'), res.body);
    assert.equal((await verify({ access_key: 'x', cluster_id: 'fc-a', operation: 'consume', params: { p: 'a\u0000' } })).statusCode, 422);
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

  test("failure limits count per (key, caller, address): another tenant's failures never lock the owner out", async () => {
    const c = await fluvioCluster();
    const key = (await create(c.base, { name: 'l', topic: 'a' })).json().key as string;
    const attacker = await fluvioCluster();
    const theirs = await credentialFor(t, attacker.orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    const wrong = generateAccessKey(accessKeyLookupId(key)!);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await verify({ access_key: wrong, cluster_id: c.clusterId, operation: 'consume' }, { authorization: theirs.authorization }, '10.7.0.1')).statusCode);
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
    const short = await startTestApp({ env: { LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: '3', LATCHKEY_VERIFY_CACHE_TTL_SECONDS: '1', LATCHKEY_RATE_LIMITED_DELAY_MS: '0' } });
    try {
      const orgId = await createOrg(short);
      const { resourceId: clusterId } = await createCluster(short, orgId, 'fluvio_cluster');
      const base = `/v1/orgs/${orgId}/resources/${clusterId}/access-keys`;
      const key = (await short.inject({ method: 'POST', url: base, headers: short.root, payload: { name: 'k', topic: 'a' } })).json().key as string;
      const ask = (accessKey: string, remoteAddress = '10.7.1.1') =>
        short.inject({ method: 'POST', url: '/v1/verify/access-key', headers: short.root, remoteAddress, payload: { access_key: accessKey, cluster_id: clusterId, operation: 'consume' } });
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
