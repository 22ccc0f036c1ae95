import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Deps } from '../../../src/deps.js';
import { purgeClusterKeys } from '../../../src/modules/cluster-keys/service.js';
import { startTestApp, suiteApp } from '../../helpers/app.js';
import { createClusterKey, decodeJwt, nodeVerifies, pulsarSetup, verifyCode } from '../../helpers/cluster-keys.js';
import { createOrg, credentialFor } from '../../helpers/principals.js';

const DAY = 86_400_000;

describe('cluster key signing keys, discovery, revocation feed and purge', () => {
  const t = suiteApp();

  const jwksKids = async (orgId: string) =>
    (await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/.well-known/jwks.json` }))
      .json()
      .keys.map((k: { kid: string }) => k.kid)
      .sort();

  test("rotation: old tokens stay valid, new tokens carry the new kid, the JWKS holds both until the old key's last token expired", async () => {
    const orgId = await createOrg(t);
    const { clusterId, ownerId } = await pulsarSetup(t, orgId);
    const old = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId });
    const oldKid = decodeJwt(old.token).header.kid as string;

    const created = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/cluster-keys/signing-keys`, headers: t.root, payload: {} });
    assert.equal(created.statusCode, 201, created.body);
    const newKid = created.json().kid;
    assert.equal(created.json().status, 'active');
    assert.equal(created.json().algorithm, 'RS256');

    const fresh = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId });
    assert.equal(decodeJwt(fresh.token).header.kid, newKid);
    assert.equal(await verifyCode(t, old.token, clusterId), 'VALID');
    assert.equal(await verifyCode(t, fresh.token, clusterId), 'VALID');
    assert.deepEqual(await jwksKids(orgId), [oldKid, newKid].sort());
    const pem = (await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/cluster-keys/public-key.pem` })).body;
    assert.ok(nodeVerifies(fresh.token, createPublicKey(pem)), 'public-key.pem is the active key');

    const list = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/cluster-keys/signing-keys`, headers: t.root });
    assert.deepEqual(
      list.json().data.map((k: { kid: string; status: string }) => [k.kid, k.status]),
      [
        [oldKid, 'retired'],
        [newKid, 'active'],
      ],
    );

    // The old key's last token expires: it leaves the JWKS.
    await t.store.prisma.clusterKey.update({ where: { id: old.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    assert.deepEqual(await jwksKids(orgId), [newKid]);
  });

  test('a retired key stays in the JWKS for a never-expiring token until that token is revoked', async () => {
    const orgId = await createOrg(t);
    const { clusterId, ownerId } = await pulsarSetup(t, orgId);
    const forever = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId, expires_at: null });
    const oldKid = decodeJwt(forever.token).header.kid as string;
    const newKid = (
      await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/cluster-keys/signing-keys`, headers: t.root, payload: { algorithm: 'ES256' } })
    ).json().kid;
    assert.deepEqual(await jwksKids(orgId), [oldKid, newKid].sort());
    await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/cluster-keys/${forever.id}/revoke`, headers: t.root });
    assert.deepEqual(await jwksKids(orgId), [newKid]);
    const es = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId });
    assert.equal(decodeJwt(es.token).header.alg, 'ES256');
  });

  test('a key with a future activate_at is published at once but signs only from then', async () => {
    const orgId = await createOrg(t);
    const { clusterId, ownerId } = await pulsarSetup(t, orgId);
    const first = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId });
    const currentKid = decodeJwt(first.token).header.kid;
    const activateAt = new Date(Date.now() + DAY).toISOString();
    const pending = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/cluster-keys/signing-keys`,
      headers: t.root,
      payload: { activate_at: activateAt },
    });
    assert.equal(pending.statusCode, 201);
    assert.equal(pending.json().status, 'pending');
    assert.equal(pending.json().activate_at, activateAt);
    assert.ok((await jwksKids(orgId)).includes(pending.json().kid));
    const next = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId });
    assert.equal(decodeJwt(next.token).header.kid, currentKid);

    const past = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/cluster-keys/signing-keys`,
      headers: t.root,
      payload: { activate_at: '2020-01-01T00:00:00Z' },
    });
    assert.equal(past.statusCode, 422);
    assert.equal(past.json().errors[0].path, 'activate_at');
    const badAlg = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/cluster-keys/signing-keys`, headers: t.root, payload: { algorithm: 'HS256' } });
    assert.equal(badAlg.statusCode, 422);
    assert.equal(badAlg.json().errors[0].path, 'algorithm');
    const audit = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/audit-events?action=signing_key.created`, headers: t.root });
    assert.equal(audit.json().data.length, 2);
  });

  test('discovery documents are public, cacheable with an ETag, and 404 for an unknown organization', async () => {
    const orgId = await createOrg(t);
    const { clusterId, ownerId } = await pulsarSetup(t, orgId);
    const noKeyYet = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/cluster-keys/public-key.pem` });
    assert.equal(noKeyYet.statusCode, 404);
    await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId });

    const config = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/.well-known/openid-configuration` });
    assert.equal(config.statusCode, 200);
    assert.equal(config.json().issuer, `http://127.0.0.1:8080/v1/orgs/${orgId}`);
    assert.equal(config.json().jwks_uri, `http://127.0.0.1:8080/v1/orgs/${orgId}/.well-known/jwks.json`);
    assert.deepEqual(config.json().id_token_signing_alg_values_supported, ['RS256', 'ES256']);

    for (const path of ['/.well-known/openid-configuration', '/.well-known/jwks.json', '/cluster-keys/public-key.pem']) {
      const res = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}${path}` });
      assert.equal(res.statusCode, 200, path);
      assert.equal(res.headers['cache-control'], 'public, max-age=300', path);
      const etag = res.headers.etag as string;
      assert.match(etag, /^"[A-Za-z0-9_-]+"$/, path);
      const again = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}${path}`, headers: { 'if-none-match': etag } });
      assert.equal(again.statusCode, 304, path);
      assert.equal(again.body, '');
      const unknown = await t.inject({ method: 'GET', url: `/v1/orgs/org-doesnotexist${path}` });
      assert.equal(unknown.statusCode, 404, path);
      assert.match(unknown.headers['content-type'] as string, /application\/problem\+json/);
    }
  });

  test('the revocation feed lists revoked unexpired keys with an ETag that changes on every revocation', async () => {
    const orgId = await createOrg(t);
    const a = await pulsarSetup(t, orgId);
    const b = await pulsarSetup(t, orgId);
    const k1 = await createClusterKey(t, orgId, { owner: a.ownerId, cluster_id: a.clusterId });
    const k2 = await createClusterKey(t, orgId, { owner: a.ownerId, cluster_id: b.clusterId, expires_at: null });
    const verifier = await credentialFor(t, orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    const feed = (query = '', headers: Record<string, string> = { authorization: verifier.authorization }) =>
      t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/cluster-keys/revocations${query}`, headers });

    const empty = await feed();
    assert.equal(empty.statusCode, 200);
    assert.deepEqual(empty.json(), { data: [] });
    const emptyTag = empty.headers.etag as string;
    assert.equal((await feed('', { authorization: verifier.authorization, 'if-none-match': emptyTag })).statusCode, 304);

    await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/cluster-keys/${k1.id}/revoke`, headers: t.root });
    const one = await feed();
    assert.notEqual(one.headers.etag, emptyTag);
    assert.equal((await feed('', { authorization: verifier.authorization, 'if-none-match': emptyTag })).statusCode, 200);
    assert.deepEqual(
      one.json().data.map((r: { id: string }) => r.id),
      [k1.id],
    );
    assert.deepEqual(Object.keys(one.json().data[0]).sort(), ['cluster_id', 'expires_at', 'id', 'revoked_at']);

    await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/cluster-keys/${k2.id}`, headers: t.root });
    const two = await feed();
    assert.notEqual(two.headers.etag, one.headers.etag);
    assert.deepEqual(
      two
        .json()
        .data.map((r: { id: string }) => r.id)
        .sort(),
      [k1.id, k2.id].sort(),
    );
    assert.deepEqual(
      (await feed(`?cluster_id=${b.clusterId}`)).json().data.map((r: { id: string }) => r.id),
      [k2.id],
    );
    assert.equal(two.json().data.find((r: { id: string }) => r.id === k2.id).expires_at, null);

    const nobody = await credentialFor(t, orgId, []);
    assert.equal((await feed('', { authorization: nobody.authorization })).statusCode, 403);
    const other = await credentialFor(t, await createOrg(t), [{ role: 'Verifier', scope: { type: 'organization' } }]);
    assert.equal((await feed('', { authorization: other.authorization })).statusCode, 404);
  });

  test('purge: a revoked key is listed until the retention passes, then not; its jti stays REVOKED until exp', async () => {
    const orgId = await createOrg(t);
    const { clusterId, ownerId } = await pulsarSetup(t, orgId);
    const key = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId, expires_at: new Date(Date.now() + 40 * DAY).toISOString() });
    const forever = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId, expires_at: null });
    for (const k of [key, forever]) await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/cluster-keys/${k.id}/revoke`, headers: t.root });
    const listed = async () => (await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/cluster-keys`, headers: t.root })).json().data.length;
    const deps = { db: t.store.prisma } as unknown as Deps;

    await purgeClusterKeys(deps, new Date(Date.now() + 14 * DAY));
    assert.equal(await listed(), 2, 'still listed within the 15 days');
    await purgeClusterKeys(deps, new Date(Date.now() + 16 * DAY));
    assert.equal(await listed(), 0, 'purged from listings after 15 days');
    assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/cluster-keys/${key.id}`, headers: t.root })).statusCode, 404);
    assert.equal(await verifyCode(t, key.token, clusterId), 'REVOKED');
    assert.equal(await verifyCode(t, forever.token, clusterId), 'REVOKED');

    await purgeClusterKeys(deps, new Date(Date.now() + 41 * DAY));
    assert.equal(await t.store.prisma.clusterKey.count({ where: { id: key.id } }), 0, 'gone once its exp passed');
    assert.equal(await t.store.prisma.clusterKey.count({ where: { id: forever.id } }), 1, 'a never-expiring jti stays on the revocation list');
    assert.equal(await verifyCode(t, forever.token, clusterId), 'REVOKED');
  });

  test('the purge job runs by itself on its interval', async () => {
    const quick = await startTestApp({
      store: t.store,
      env: { LATCHKEY_REVOKED_KEY_RETENTION_DAYS: '0', LATCHKEY_CLUSTER_KEY_PURGE_INTERVAL_SECONDS: '1' },
    });
    try {
      const orgId = await createOrg(quick);
      const { clusterId, ownerId } = await pulsarSetup(quick, orgId);
      const key = await createClusterKey(quick, orgId, { owner: ownerId, cluster_id: clusterId });
      await quick.inject({ method: 'POST', url: `/v1/orgs/${orgId}/cluster-keys/${key.id}/revoke`, headers: quick.root });
      let listed = true;
      for (let i = 0; i < 50 && listed; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        listed = (await quick.store.prisma.clusterKey.findUniqueOrThrow({ where: { id: key.id } })).listed;
      }
      assert.equal(listed, false);
      assert.equal(await verifyCode(quick, key.token, clusterId), 'REVOKED');
    } finally {
      await quick.close();
    }
  });
});
