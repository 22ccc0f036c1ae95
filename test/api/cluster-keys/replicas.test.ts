import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { msUntil, REPLICAS, startReplicas, type TestApp } from '../../helpers/app.js';
import { createClusterKey, pulsarSetup, verifyCode } from '../../helpers/cluster-keys.js';
import { createOrg } from '../../helpers/principals.js';

describe(`cluster key revocation reaches every replica (${REPLICAS})`, () => {
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    [a, b] = await startReplicas();
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  async function cachedOnBoth() {
    const orgId = await createOrg(a);
    const { clusterId, ownerId } = await pulsarSetup(a, orgId);
    const key = await createClusterKey(a, orgId, { owner: ownerId, cluster_id: clusterId });
    for (const app of [a, b]) assert.equal(await verifyCode(app, key.token, clusterId), 'VALID');
    return { orgId, clusterId, ownerId, key };
  }

  const msUntilCode = (app: TestApp, token: string, clusterId: string, code: string) => msUntil(async () => (await verifyCode(app, token, clusterId)) === code);

  test('a revoke through one replica is REVOKED there at once and on the other within one second', async () => {
    const { orgId, clusterId, key } = await cachedOnBoth();
    const res = await a.inject({ method: 'POST', url: `/v1/orgs/${orgId}/cluster-keys/${key.id}/revoke`, headers: a.root });
    assert.equal(res.statusCode, 200);
    assert.equal(await verifyCode(a, key.token, clusterId), 'REVOKED', 'the answering replica, at once');
    const ms = await msUntilCode(b, key.token, clusterId, 'REVOKED');
    assert.ok(ms < 1000, `the other replica saw the revocation after ${ms} ms`);
  });

  test('a delete through the second replica, and a signing key made on one, are seen by the other', async () => {
    const { orgId, clusterId, ownerId, key } = await cachedOnBoth();
    assert.equal((await b.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/cluster-keys/${key.id}`, headers: b.root })).statusCode, 204);
    assert.equal(await verifyCode(b, key.token, clusterId), 'REVOKED');
    assert.ok((await msUntilCode(a, key.token, clusterId, 'REVOKED')) < 1000);

    const rotated = await a.inject({ method: 'POST', url: `/v1/orgs/${orgId}/cluster-keys/signing-keys`, headers: a.root, payload: {} });
    assert.equal(rotated.statusCode, 201);
    const fresh = await createClusterKey(a, orgId, { owner: ownerId, cluster_id: clusterId });
    assert.equal(await verifyCode(b, fresh.token, clusterId), 'VALID', 'a kid made on another replica is found');
  });
});
