import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { createClusterKey, pulsarSetup, verifyCode } from '../../helpers/cluster-keys.js';
import { createOrg, credentialFor } from '../../helpers/principals.js';

describe('cluster key signing keys, discovery, revocation feed and purge: security', () => {
  const t = suiteApp();

  test("roles: admins of the org, the cluster's environment or the cluster create keys; Developer roles only their own; Verifier cannot", async () => {
    const orgId = await createOrg(t);
    const { clusterId, environmentId, ownerId } = await pulsarSetup(t, orgId);
    const elsewhere = await pulsarSetup(t, orgId);
    const as = async (bindings: Parameters<typeof credentialFor>[2]) => credentialFor(t, orgId, bindings);
    const create = (authorization: string, owner: string, cluster = clusterId) =>
      t.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/cluster-keys`,
        headers: { authorization },
        payload: { name: uniqueName('ck'), owner, cluster_id: cluster },
      });

    const envAdmin = await as([{ role: 'EnvironmentAdmin', scope: { type: 'environment', id: environmentId } }]);
    assert.equal((await create(envAdmin.authorization, ownerId)).statusCode, 201);
    assert.equal((await create(envAdmin.authorization, ownerId, elsewhere.clusterId)).statusCode, 403);
    const clusterAdmin = await as([{ role: 'CloudClusterAdmin', scope: { type: 'resource', id: clusterId } }]);
    assert.equal((await create(clusterAdmin.authorization, ownerId)).statusCode, 201);
    const orgAdmin = await as([{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    assert.equal((await create(orgAdmin.authorization, ownerId, elsewhere.clusterId)).statusCode, 201);

    const developer = await as([{ role: 'DeveloperManage', scope: { type: 'resource', id: clusterId } }]);
    assert.equal((await create(developer.authorization, ownerId)).statusCode, 403);
    const own = await create(developer.authorization, developer.principalId);
    assert.equal(own.statusCode, 201);
    const revokeOwn = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/cluster-keys/${own.json().id}/revoke`,
      headers: { authorization: developer.authorization },
    });
    assert.equal(revokeOwn.statusCode, 200);
    const listed = (await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/cluster-keys`, headers: { authorization: developer.authorization } })).json().data;
    assert.deepEqual(
      listed.map((k: { id: string }) => k.id),
      [own.json().id],
      'a developer sees only its own keys',
    );

    const verifier = await as([{ role: 'Verifier', scope: { type: 'organization' } }]);
    assert.equal((await create(verifier.authorization, ownerId)).statusCode, 403);
    assert.equal((await create(verifier.authorization, verifier.principalId)).statusCode, 403);

    const signing = (authorization: string) =>
      t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/cluster-keys/signing-keys`, headers: { authorization }, payload: {} });
    assert.equal((await signing(envAdmin.authorization)).statusCode, 403);
    assert.equal((await signing(orgAdmin.authorization)).statusCode, 201);
    assert.equal(
      (await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/cluster-keys/signing-keys`, headers: { authorization: clusterAdmin.authorization } }))
        .statusCode,
      403,
    );
  });

  test("BOLA: every cluster-key route with another organization's credentials is 404", async () => {
    const orgId = await createOrg(t);
    const { clusterId, ownerId } = await pulsarSetup(t, orgId);
    const key = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId });
    const intruder = await credentialFor(t, await createOrg(t), [
      { role: 'OrganizationAdmin', scope: { type: 'organization' } },
      { role: 'Verifier', scope: { type: 'organization' } },
    ]);
    const headers = { authorization: intruder.authorization };
    const base = `/v1/orgs/${orgId}/cluster-keys`;
    const calls: Array<[string, string, object?]> = [
      ['POST', base, { name: 'x', owner: ownerId, cluster_id: clusterId }],
      ['GET', base],
      ['GET', `${base}/${key.id}`],
      ['PATCH', `${base}/${key.id}`, { name: 'y' }],
      ['DELETE', `${base}/${key.id}`],
      ['POST', `${base}/${key.id}/revoke`],
      ['GET', `${base}/signing-keys`],
      ['POST', `${base}/signing-keys`, {}],
      ['GET', `${base}/revocations`],
    ];
    for (const [method, url, payload] of calls) {
      const res = await t.inject({ method: method as 'GET', url, headers, ...(payload ? { payload } : {}) });
      assert.equal(res.statusCode, 404, `${method} ${url}: ${res.body}`);
    }
    assert.equal(await verifyCode(t, key.token, clusterId), 'VALID', 'nothing changed');
    assert.equal(await t.store.prisma.clusterKey.count({ where: { orgId } }), 1);
  });
});
