import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSecret, SecretPrefix } from '../../../src/crypto/tokens.js';
import { suiteApp, type TestApp, uniqueName } from '../../helpers/app.js';
import { createClusterKey, pulsarSetup } from '../../helpers/cluster-keys.js';
import { sample } from '../../helpers/metrics.js';
import { createAsRoot, createCluster, createOrg, credentialFor } from '../../helpers/principals.js';

type Item = Record<string, unknown> & { kind: 'api_key' | 'cluster_key' | 'access_key' };

const SINGLE_ROUTE = { api_key: '/v1/verify/api-key', cluster_key: '/v1/verify/cluster-key', access_key: '/v1/verify/access-key' } as const;

/** Nothing listens there: a remote key filter on it is unavailable at once (refused). */
const DEAD_FILTER = '127.0.0.1:9';

/** One organization with a credential of each kind, and the ids to address them. */
async function credentials(t: TestApp) {
  const orgId = await createOrg(t);
  const { resourceId: kafkaId } = await createCluster(t, orgId);
  const owner = await createAsRoot(t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName() });
  const apiKey = await createAsRoot(t, `/v1/orgs/${orgId}/api-keys`, { owner: owner.id, scope: { type: 'resource', resource_id: kafkaId } });
  const pulsar = await pulsarSetup(t, orgId);
  const clusterKey = await createClusterKey(t, orgId, { owner: pulsar.ownerId, cluster_id: pulsar.clusterId });
  const { resourceId: fluvioId } = await createCluster(t, orgId, 'fluvio_cluster');
  const accessKeyName = uniqueName('ak');
  const accessKey = await createAsRoot(t, `/v1/orgs/${orgId}/resources/${fluvioId}/access-keys`, { name: accessKeyName, topic: 'orders', consume: true });
  const items = {
    apiKey: { kind: 'api_key', key: apiKey.id, secret: apiKey.secret, resource_id: kafkaId } as Item,
    clusterKey: { kind: 'cluster_key', token: clusterKey.token, cluster_id: pulsar.clusterId } as Item,
    accessKey: { kind: 'access_key', access_key: accessKey.key, cluster_id: fluvioId, operation: 'consume', topic: 'orders' } as Item,
  };
  return {
    orgId,
    kafkaId,
    fluvioId,
    pulsarId: pulsar.clusterId,
    ownerId: owner.id as string,
    apiKeyId: apiKey.id as string,
    clusterKeyId: clusterKey.id as string,
    accessKeyName,
    items,
  };
}

describe('POST /v1/verify/batch', () => {
  const t = suiteApp(() => ({ env: { LATCHKEY_METRICS_PORT: '0', LATCHKEY_KEY_FILTER_ALLOWED_HOSTS: DEAD_FILTER } }));

  const batch = (items: unknown, headers: Record<string, string> = t.root, remoteAddress?: string) =>
    t.inject({ method: 'POST', url: '/v1/verify/batch', headers, payload: { items }, ...(remoteAddress ? { remoteAddress } : {}) });

  /** What the item's own route answers. */
  async function single(item: Item, headers: Record<string, string> = t.root): Promise<unknown> {
    const { kind, ...body } = item;
    const res = await t.inject({ method: 'POST', url: SINGLE_ROUTE[kind], headers, payload: body });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  }

  /** The latchkey_verifications_total samples. */
  const verifications = async () =>
    (await t.app.metrics!.render())
      .split('\n')
      .filter((line) => line.startsWith('latchkey_verifications_total{'))
      .join('\n');

  test('mixed kinds answer in the order of the items, each exactly as its single route, with every code', async () => {
    const c = await credentials(t);
    // Far enough ahead to be in the future when the creates run on a busy machine; waited out below.
    const soon = new Date(Date.now() + 4000).toISOString();
    const expiringKey = await createAsRoot(t, `/v1/orgs/${c.orgId}/api-keys`, { owner: c.ownerId, scope: { type: 'cloud' }, expires_at: soon });
    const expiringToken = await createClusterKey(t, c.orgId, { owner: (await pulsarSetup(t, c.orgId)).ownerId, cluster_id: c.pulsarId, expires_at: soon });
    const revokedKey = await createAsRoot(t, `/v1/orgs/${c.orgId}/api-keys`, { owner: c.ownerId, scope: { type: 'cloud' } });
    await t.inject({ method: 'DELETE', url: `/v1/orgs/${c.orgId}/api-keys/${revokedKey.id}`, headers: t.root });
    const revokedToken = await createClusterKey(t, c.orgId, { owner: (await pulsarSetup(t, c.orgId)).ownerId, cluster_id: c.pulsarId });
    await t.inject({ method: 'POST', url: `/v1/orgs/${c.orgId}/cluster-keys/${revokedToken.id}/revoke`, headers: t.root });
    const filtered = await createAsRoot(t, `/v1/orgs/${c.orgId}/resources/${c.fluvioId}/access-keys`, {
      name: uniqueName('ak'),
      topic: 'orders',
      consume: true,
      key_filter_remote: `tenant:https://${DEAD_FILTER}/filter`,
    });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(soon) + 100 - Date.now())));

    const items: Array<[Item, string]> = [
      [c.items.apiKey, 'VALID'],
      [c.items.clusterKey, 'VALID'],
      [c.items.accessKey, 'VALID'],
      [{ ...c.items.apiKey, secret: generateSecret(SecretPrefix.apiKey) }, 'INVALID'],
      [{ ...c.items.apiKey, resource_id: 'lkc-elsewhere' }, 'WRONG_RESOURCE'],
      [{ kind: 'api_key', key: expiringKey.id, secret: expiringKey.secret, resource_id: 'cloud' }, 'EXPIRED'],
      [{ kind: 'api_key', key: revokedKey.id, secret: revokedKey.secret, resource_id: 'cloud' }, 'REVOKED'],
      [{ ...c.items.clusterKey, token: `${String(c.items.clusterKey.token).slice(0, -4)}AAAA` }, 'INVALID'],
      [{ ...c.items.clusterKey, cluster_id: 'pc-elsewhere' }, 'WRONG_RESOURCE'],
      [{ kind: 'cluster_key', token: expiringToken.token, cluster_id: c.pulsarId }, 'EXPIRED'],
      [{ kind: 'cluster_key', token: revokedToken.token, cluster_id: c.pulsarId }, 'REVOKED'],
      [{ ...c.items.accessKey, access_key: `${String(c.items.accessKey.access_key).slice(0, -2)}xx` }, 'INVALID'],
      [{ ...c.items.accessKey, cluster_id: 'fc-elsewhere' }, 'WRONG_RESOURCE'],
      [{ ...c.items.accessKey, operation: 'produce' }, 'FORBIDDEN'],
      [{ ...c.items.accessKey, access_key: filtered.key }, 'KEY_FILTER_REQUIRED'],
      [{ ...c.items.accessKey, access_key: filtered.key, params: { tenant: 'acme' } }, 'KEY_FILTER_UNAVAILABLE'],
    ];
    const res = await batch(
      items.map(([item]) => item),
      t.root,
      '10.30.0.1',
    );
    assert.equal(res.statusCode, 200, res.body);
    const { results } = res.json() as { results: Array<{ code: string }> };
    assert.deepEqual(Object.keys(res.json()), ['results']);
    assert.deepEqual(
      results.map((r) => r.code),
      items.map(([, code]) => code),
    );
    for (const [index, [item]] of items.entries()) {
      assert.deepEqual(results[index], await single(item), `item ${index} (${item.kind}) answers as ${SINGLE_ROUTE[item.kind]}`);
    }
    assert.equal((results[0] as { org_id?: string }).org_id, c.orgId);
  });

  test('100 items answer 100 results; 0 or 101 items are 422 naming items, and nothing is verified', async () => {
    const c = await credentials(t);
    const hundred = Array.from({ length: 100 }, (_, i) => [c.items.apiKey, c.items.clusterKey, c.items.accessKey][i % 3]);
    const res = await batch(hundred);
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().results.length, 100);
    assert.ok(res.json().results.every((r: { code: string }) => r.code === 'VALID'));

    const before = await verifications();
    for (const items of [[], [...hundred, c.items.apiKey]]) {
      const refused = await batch(items);
      assert.equal(refused.statusCode, 422, refused.body);
      assert.match(String(refused.headers['content-type']), /^application\/problem\+json/);
      assert.deepEqual(
        refused.json().errors.map((e: { path: string }) => e.path),
        ['items'],
      );
    }
    assert.equal(await verifications(), before, 'no verification was counted');
  });

  test('a bad item is 422 naming it as items.<index>.<field>; nothing is verified', async () => {
    const c = await credentials(t);
    const before = await verifications();
    const cases: Array<[unknown[], string[]]> = [
      [[c.items.apiKey, c.items.clusterKey, c.items.accessKey, { ...c.items.apiKey, secret: 42 }], ['items.3.secret']],
      [[c.items.apiKey, { ...c.items.apiKey, kind: 'password' }], ['items.1.kind']],
      [[{ key: c.apiKeyId, secret: 'x', resource_id: 'cloud' }], ['items.0.kind']],
      [[{ ...c.items.clusterKey, extra: 1 }], ['items.0.extra']],
      [[{ kind: 'access_key', cluster_id: c.fluvioId, operation: 'admin' }], ['items.0.access_key', 'items.0.operation']],
      [[c.items.apiKey, 'not an object'], ['items.1']],
    ];
    for (const [items, paths] of cases) {
      const res = await batch(items);
      assert.equal(res.statusCode, 422, res.body);
      assert.deepEqual(
        res
          .json()
          .errors.map((e: { path: string }) => e.path)
          .sort(),
        paths,
        res.body,
      );
    }
    assert.equal(
      (await t.inject({ method: 'POST', url: '/v1/verify/batch', headers: t.root, payload: { items: [c.items.apiKey], more: true } })).statusCode,
      422,
    );
    assert.equal(await verifications(), before, 'no verification was counted');
  });

  test('every item counts in latchkey_verifications_total under its own kind and code', async () => {
    const c = await credentials(t);
    const before = await t.app.metrics!.render();
    const res = await batch([
      c.items.apiKey,
      c.items.apiKey,
      { ...c.items.clusterKey, cluster_id: 'pc-elsewhere' },
      { ...c.items.accessKey, operation: 'produce' },
      c.items.accessKey,
    ]);
    assert.equal(res.statusCode, 200, res.body);
    const text = await t.app.metrics!.render();
    const delta = (series: string) => (sample(text, series) ?? 0) - (sample(before, series) ?? 0);
    assert.equal(delta('latchkey_verifications_total{kind="api_key",code="VALID"}'), 2);
    assert.equal(delta('latchkey_verifications_total{kind="cluster_key",code="WRONG_RESOURCE"}'), 1);
    assert.equal(delta('latchkey_verifications_total{kind="cluster_key",code="VALID"}'), 0);
    assert.equal(delta('latchkey_verifications_total{kind="access_key",code="FORBIDDEN"}'), 1);
    assert.equal(delta('latchkey_verifications_total{kind="access_key",code="VALID"}'), 1);
    assert.equal(delta('http_requests_total{method="POST",route="/v1/verify/batch",status="200"}'), 1);
  });

  test("a Verifier gets INVALID for another organization's credentials and VALID for its own; a non-Verifier is 403, no credential 401", async () => {
    const mine = await credentials(t);
    const theirs = await credentials(t);
    const verifier = await credentialFor(t, mine.orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    const headers = { authorization: verifier.authorization };
    const items = [mine.items.apiKey, theirs.items.apiKey, mine.items.clusterKey, theirs.items.clusterKey, mine.items.accessKey, theirs.items.accessKey];
    const res = await batch(items, headers);
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(
      res.json().results.map((r: { code: string }) => r.code),
      ['VALID', 'INVALID', 'VALID', 'INVALID', 'VALID', 'INVALID'],
    );
    for (const [index, item] of items.entries()) assert.deepEqual(res.json().results[index], await single(item, headers));
    for (const id of [theirs.orgId, theirs.apiKeyId, theirs.clusterKeyId, theirs.accessKeyName, theirs.ownerId])
      assert.ok(!res.body.includes(id), `${id} leaked`);

    const admin = await credentialFor(t, mine.orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    for (const only of [[mine.items.apiKey], [mine.items.clusterKey]]) {
      const forbidden = await batch(only, { authorization: admin.authorization });
      assert.equal(forbidden.statusCode, 403, forbidden.body);
    }
    const none = await batch([mine.items.apiKey], {});
    assert.equal(none.statusCode, 401);
    assert.ok(none.headers['www-authenticate']);
  });

  test('revocations are seen in batch answers at once', async () => {
    const c = await credentials(t);
    const items = [c.items.apiKey, c.items.clusterKey, c.items.accessKey];
    assert.deepEqual(
      (await batch(items)).json().results.map((r: { code: string }) => r.code),
      ['VALID', 'VALID', 'VALID'],
    );
    assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${c.orgId}/api-keys/${c.apiKeyId}`, headers: t.root })).statusCode, 204);
    assert.equal((await t.inject({ method: 'POST', url: `/v1/orgs/${c.orgId}/cluster-keys/${c.clusterKeyId}/revoke`, headers: t.root })).statusCode, 200);
    assert.equal(
      (await t.inject({ method: 'DELETE', url: `/v1/orgs/${c.orgId}/resources/${c.fluvioId}/access-keys/${c.accessKeyName}`, headers: t.root })).statusCode,
      204,
    );
    const res = await batch(items);
    assert.deepEqual(
      res.json().results.map((r: { code: string }) => r.code),
      ['REVOKED', 'REVOKED', 'INVALID'],
    );
    for (const [index, item] of items.entries()) assert.deepEqual(res.json().results[index], await single(item));
  });
});

describe('POST /v1/verify/batch and the failure limits', () => {
  const t = suiteApp(() => ({ env: { LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: '5', LATCHKEY_VERIFY_FAILURES_PER_ADDRESS_PER_MINUTE: '1000' } }));

  const batch = (items: unknown, remoteAddress: string) =>
    t.inject({ method: 'POST', url: '/v1/verify/batch', headers: t.root, payload: { items }, remoteAddress });
  const single = (item: Item, remoteAddress: string) => {
    const { kind: _kind, ...payload } = item;
    return t.inject({ method: 'POST', url: '/v1/verify/api-key', headers: t.root, payload, remoteAddress });
  };

  test('each wrong secret in a batch counts as one failure, as on the single route', async () => {
    const c = await credentials(t);
    // Well-formed, so each reaches argon2 and counts; the limit is 5 per key, caller and address.
    const wrong = Array.from({ length: 5 }, () => ({ ...c.items.apiKey, secret: generateSecret(SecretPrefix.apiKey) }));
    const res = await batch(wrong, '10.31.0.1');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(
      res.json().results.map((r: { code: string }) => r.code),
      ['INVALID', 'INVALID', 'INVALID', 'INVALID', 'INVALID'],
    );
    const next = await single(wrong[0]!, '10.31.0.1');
    assert.equal(next.statusCode, 429, 'five failures in one batch reached the limit of five');
    assert.ok(Number(next.headers['retry-after']) >= 1);
  });

  test('100 wrong secrets in one batch are throttled like 100 single calls: 429 with Retry-After, and the right secret is then refused too until it is known', async () => {
    const c = await credentials(t);
    const wrong = Array.from({ length: 100 }, () => ({ ...c.items.apiKey, secret: generateSecret(SecretPrefix.apiKey) }));
    const res = await batch(wrong, '10.31.1.1');
    assert.equal(res.statusCode, 429, res.body);
    assert.equal(res.json().code, 'rate_limited');
    assert.ok(Number(res.headers['retry-after']) >= 1);
    // Never verified by this caller: an unknown secret while over the limit, exactly as the single route answers it.
    const right = await batch([c.items.apiKey], '10.31.1.1');
    assert.equal(right.statusCode, 429, right.body);
    assert.equal((await single(c.items.apiKey, '10.31.1.1')).statusCode, 429);
  });

  test('a throttled caller still gets its known-good secrets verified in a batch', async () => {
    const c = await credentials(t);
    assert.equal((await batch([c.items.apiKey], '10.31.2.1')).json().results[0].code, 'VALID');
    const wrong = Array.from({ length: 5 }, () => ({ ...c.items.apiKey, secret: generateSecret(SecretPrefix.apiKey) }));
    assert.equal((await batch(wrong, '10.31.2.1')).statusCode, 200);
    assert.equal((await batch([wrong[0]], '10.31.2.1')).statusCode, 429);
    const known = await batch([c.items.apiKey, c.items.clusterKey], '10.31.2.1');
    assert.equal(known.statusCode, 200, known.body);
    assert.deepEqual(
      known.json().results.map((r: { code: string }) => r.code),
      ['VALID', 'VALID'],
    );
  });
});
