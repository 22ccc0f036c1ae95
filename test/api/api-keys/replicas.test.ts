import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { msUntil, REPLICAS, startReplicas, type TestApp, uniqueName } from '../../helpers/app.js';
import { createAsRoot, createCluster, createOrg, credentialFor } from '../../helpers/principals.js';

describe(`revocation reaches every replica (${REPLICAS})`, () => {
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    [a, b] = await startReplicas();
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  async function cachedKeyOnBoth() {
    const orgId = await createOrg(a);
    const { resourceId } = await createCluster(a, orgId);
    const owner = await createAsRoot(a, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName() });
    const key = await createAsRoot(a, `/v1/orgs/${orgId}/api-keys`, { owner: owner.id, scope: { type: 'resource', resource_id: resourceId } });
    const payload = { key: key.id, secret: key.secret, resource_id: resourceId };
    for (const app of [a, b]) {
      const res = await app.inject({ method: 'POST', url: '/v1/verify/api-key', headers: app.root, payload });
      assert.equal(res.json().code, 'VALID');
    }
    return { orgId, ownerId: owner.id as string, resourceId, key, payload };
  }

  const msUntilInvalid = (app: TestApp, payload: object) =>
    msUntil(async () => (await app.inject({ method: 'POST', url: '/v1/verify/api-key', headers: app.root, payload })).json().code !== 'VALID');

  test('a key deleted through one replica stops verifying on the other within one second', async () => {
    const { orgId, key, payload } = await cachedKeyOnBoth();
    const del = await a.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: a.root });
    assert.equal(del.statusCode, 204);
    assert.equal((await a.inject({ method: 'POST', url: '/v1/verify/api-key', headers: a.root, payload })).json().code, 'REVOKED', 'same replica: immediately');
    const delay = await msUntilInvalid(b, payload);
    assert.ok(delay < 1000, `other replica stopped accepting after ${delay} ms`);
  });

  test('rotation without grace and principal deletion propagate the same way', async () => {
    const rotated = await cachedKeyOnBoth();
    await a.inject({ method: 'POST', url: `/v1/orgs/${rotated.orgId}/api-keys/${rotated.key.id}/rotate`, headers: a.root, payload: {} });
    assert.ok((await msUntilInvalid(b, rotated.payload)) < 1000);

    const deleted = await cachedKeyOnBoth();
    const res = await a.inject({ method: 'DELETE', url: `/v1/orgs/${deleted.orgId}/service-accounts/${deleted.ownerId}?force=true`, headers: a.root });
    assert.equal(res.statusCode, 204, res.body);
    assert.ok((await msUntilInvalid(b, deleted.payload)) < 1000);
  });

  test('a removed role binding stops applying on the other replica, although it cached the actor', async () => {
    const orgId = await createOrg(a);
    const admin = await credentialFor(a, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const headers = { authorization: admin.authorization };
    const patch = (app: TestApp) => app.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}`, headers, payload: { display_name: uniqueName() } });
    assert.equal((await patch(b)).statusCode, 200);
    const bindings = await a.inject({ method: 'GET', url: `/v1/orgs/${orgId}/role-bindings?principal=${admin.principalId}`, headers: a.root });
    const del = await a.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/role-bindings/${bindings.json().data[0].id}`, headers: a.root });
    assert.equal(del.statusCode, 204);
    const start = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - start < 5000) {
      status = (await patch(b)).statusCode;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(status, 403);
    assert.ok(Date.now() - start < 1000, `took ${Date.now() - start} ms`);
  });

  test('resource deletion propagates', async () => {
    const removed = await cachedKeyOnBoth();
    const res = await a.inject({ method: 'DELETE', url: `/v1/orgs/${removed.orgId}/resources/${removed.resourceId}`, headers: a.root });
    assert.equal(res.statusCode, 204, res.body);
    assert.ok((await msUntilInvalid(b, removed.payload)) < 1000);
  });
});
