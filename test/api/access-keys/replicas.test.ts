import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { msUntil, REPLICAS, startReplicas, type TestApp } from '../../helpers/app.js';
import { createCluster, createOrg } from '../../helpers/principals.js';

describe(`access-key revocation reaches every replica (${REPLICAS})`, () => {
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    [a, b] = await startReplicas();
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  async function keyCachedOnBoth() {
    const orgId = await createOrg(a);
    const { resourceId } = await createCluster(a, orgId, 'fluvio_cluster');
    const base = `/v1/orgs/${orgId}/resources/${resourceId}/access-keys`;
    const created = await a.inject({ method: 'POST', url: base, headers: a.root, payload: { name: 'replicated', topic: 'orders' } });
    assert.equal(created.statusCode, 201, created.body);
    const payload = { access_key: created.json().key, cluster_id: resourceId, operation: 'consume' };
    for (const app of [a, b])
      assert.equal((await app.inject({ method: 'POST', url: '/v1/verify/access-key', headers: app.root, payload })).json().code, 'VALID');
    return { orgId, resourceId, base, payload };
  }

  const msUntilInvalid = (app: TestApp, payload: object) =>
    msUntil(async () => (await app.inject({ method: 'POST', url: '/v1/verify/access-key', headers: app.root, payload })).json().code !== 'VALID');

  test('delete, rotation without grace and cluster deletion through one replica stop the key on the other within one second', async () => {
    const deleted = await keyCachedOnBoth();
    assert.equal((await a.inject({ method: 'DELETE', url: `${deleted.base}/replicated`, headers: a.root })).statusCode, 204);
    assert.equal(
      (await a.inject({ method: 'POST', url: '/v1/verify/access-key', headers: a.root, payload: deleted.payload })).json().code,
      'INVALID',
      'same replica: at once',
    );
    assert.ok((await msUntilInvalid(b, deleted.payload)) < 1000);

    const rotated = await keyCachedOnBoth();
    assert.equal((await a.inject({ method: 'POST', url: `${rotated.base}/replicated/rotate`, headers: a.root, payload: {} })).statusCode, 200);
    assert.ok((await msUntilInvalid(b, rotated.payload)) < 1000);

    const cluster = await keyCachedOnBoth();
    assert.equal((await a.inject({ method: 'DELETE', url: `/v1/orgs/${cluster.orgId}/resources/${cluster.resourceId}`, headers: a.root })).statusCode, 204);
    assert.ok((await msUntilInvalid(b, cluster.payload)) < 1000);
  });
});
