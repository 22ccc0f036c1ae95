import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accessKeyFixtures } from '../../helpers/access-keys.js';
import { suiteApp } from '../../helpers/app.js';
import { createCluster, credentialFor } from '../../helpers/principals.js';

describe('access keys: errors', () => {
  const t = suiteApp(() => ({ env: { LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: '3', LATCHKEY_RATE_LIMITED_DELAY_MS: '0' } }));
  const { fluvioCluster, create, verify } = accessKeyFixtures(() => t);

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
      assert.ok(
        res.json().errors.some((e: { path: string }) => e.path === path),
        `${path} named in ${res.body}`,
      );
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
    for (const [method, url] of [
      ['GET', theirs.base],
      ['GET', `${theirs.base}/theirs`],
      ['DELETE', `${theirs.base}/theirs`],
      ['POST', `${theirs.base}/theirs/rotate`],
    ] as const) {
      const r = await t.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) });
      assert.equal(r.statusCode, 404, `${method} ${url}`);
    }
    assert.equal((await t.inject({ method: 'GET', url: `${c.base}/nope`, headers: t.root })).statusCode, 404);
    assert.equal((await create(`/v1/orgs/${c.orgId}/resources/fc-unknown/access-keys`, { name: 'x', topic: 'a' })).statusCode, 404);
  });

  test('verify: bad input is 422 naming the fields', async () => {
    const res = await verify({ access_key: 'x', operation: 'delete', params: { 'a b': 'c' } });
    assert.equal(res.statusCode, 422);
    const paths = res.json().errors.map((e: { path: string }) => e.path);
    assert.ok(paths.includes('cluster_id') && paths.includes('operation'), res.body);
    assert.equal((await verify({ access_key: 'x', cluster_id: 'fc-a', operation: 'consume', params: { p: 'a\u0000' } })).statusCode, 422);
  });
});
