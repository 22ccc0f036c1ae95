import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { createClusterKey, decodeJwt, nodeVerifies, publicKeyFromJwk, pulsarSetup, verifyCode } from '../../helpers/cluster-keys.js';
import { createCluster, createOrg } from '../../helpers/principals.js';

const DAY = 86_400_000;

describe('cluster keys', () => {
  const t = suiteApp();

  const url = (orgId: string, rest = '') => `/v1/orgs/${orgId}/cluster-keys${rest}`;

  test('create returns a JWT with exactly the documented header and claims, once; the database keeps no token', async () => {
    const orgId = await createOrg(t);
    const { clusterId, ownerId } = await pulsarSetup(t, orgId);
    const before = Math.floor(Date.now() / 1000);
    const key = await createClusterKey(t, orgId, { name: 'orders-producer', owner: ownerId, cluster_id: clusterId, description: 'CI' });
    assert.match(key.id, /^ck-[a-z0-9]+$/);
    assert.equal(key.name, 'orders-producer');
    assert.deepEqual(key.owner, { id: ownerId, type: 'service_account' });
    assert.equal(key.cluster_id, clusterId);
    assert.equal(key.description, 'CI');
    assert.equal(key.status, 'active');
    assert.equal(key.revoked_at, null);
    assert.equal(key.last_used_at, null);

    const { header, payload } = decodeJwt(key.token);
    assert.deepEqual(Object.keys(header).sort(), ['alg', 'kid', 'typ']);
    assert.equal(header.alg, 'RS256');
    assert.equal(header.typ, 'JWT');
    assert.deepEqual(Object.keys(payload).sort(), ['aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'sub']);
    assert.equal(payload.iss, `http://127.0.0.1:8080/v1/orgs/${orgId}`);
    assert.equal(payload.sub, ownerId);
    assert.equal(payload.aud, clusterId);
    assert.equal(payload.jti, key.id);
    assert.ok((payload.iat as number) >= before && (payload.iat as number) <= before + 5);
    assert.equal(payload.nbf, payload.iat);
    // Default expiry: 30 days, and the stored expires_at is exactly the token's exp.
    assert.equal(new Date(key.expires_at).getTime(), (payload.exp as number) * 1000);
    assert.ok(Math.abs((payload.exp as number) * 1000 - (Date.now() + 30 * DAY)) < 10_000);

    const row = await t.store.prisma.clusterKey.findUniqueOrThrow({ where: { id: key.id } });
    assert.ok(!JSON.stringify(row).includes(key.token.split('.')[2]));
    const get = await t.inject({ method: 'GET', url: url(orgId, `/${key.id}`), headers: t.root });
    assert.equal(get.statusCode, 200);
    assert.equal(get.json().token, undefined);
    assert.ok(!t.logs.some((line) => line.includes(key.token.split('.')[2]!)));

    for (const action of ['cluster_key.created', 'signing_key.created']) {
      const audit = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/audit-events?action=${action}`, headers: t.root });
      assert.equal(audit.json().data.length, 1, action);
      assert.ok(!audit.body.includes(key.token.split('.')[2]));
    }
  });

  test('the token verifies with node:crypto against the JWKS entry and against public-key.pem', async () => {
    const orgId = await createOrg(t);
    const { clusterId, ownerId } = await pulsarSetup(t, orgId);
    const key = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId });
    const { header } = decodeJwt(key.token);

    const jwks = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/.well-known/jwks.json` });
    assert.equal(jwks.statusCode, 200);
    const jwk = jwks.json().keys.find((k: { kid: string }) => k.kid === header.kid);
    assert.ok(jwk, "the JWKS holds the token's kid");
    assert.equal(jwk.alg, 'RS256');
    assert.equal(jwk.d, undefined, 'no private part');
    assert.ok(nodeVerifies(key.token, publicKeyFromJwk(jwk)));
    assert.equal(publicKeyFromJwk(jwk).asymmetricKeyDetails?.modulusLength, 2048);

    const pem = await t.inject({ method: 'GET', url: url(orgId, '/public-key.pem') });
    assert.equal(pem.statusCode, 200);
    assert.match(pem.headers['content-type'] as string, /application\/x-pem-file/);
    assert.match(pem.body, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
    assert.ok(nodeVerifies(key.token, createPublicKey(pem.body)));
    // What Pulsar's tokenPublicKey=data:;base64,… carries: the DER of the same key.
    const der = createPublicKey(pem.body).export({ type: 'spki', format: 'der' });
    assert.ok(nodeVerifies(key.token, createPublicKey({ key: der, format: 'der', type: 'spki' })));

    const tampered = key.token.slice(0, -2) + (key.token.endsWith('AA') ? 'BB' : 'AA');
    assert.ok(!nodeVerifies(tampered, createPublicKey(pem.body)));
  });

  test('organization setting cluster_key_algorithm ES256 signs with ES256', async () => {
    const orgId = await createOrg(t, { cluster_key_algorithm: 'ES256' });
    const { clusterId, ownerId } = await pulsarSetup(t, orgId);
    const key = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId });
    assert.equal(decodeJwt(key.token).header.alg, 'ES256');
    const pem = await t.inject({ method: 'GET', url: url(orgId, '/public-key.pem') });
    assert.ok(nodeVerifies(key.token, createPublicKey(pem.body)));
    assert.equal(await verifyCode(t, key.token, clusterId), 'VALID');
  });

  test('list filters by owner, cluster_id and status; revoke is 200 and idempotent; delete unlists at once', async () => {
    const orgId = await createOrg(t);
    const a = await pulsarSetup(t, orgId);
    const { resourceId: otherCluster } = await createCluster(t, orgId, 'pulsar_cluster');
    const k1 = await createClusterKey(t, orgId, { owner: a.ownerId, cluster_id: a.clusterId });
    const k2 = await createClusterKey(t, orgId, { owner: a.ownerId, cluster_id: otherCluster });
    const k3 = await createClusterKey(t, orgId, { owner: a.ownerId, cluster_id: a.clusterId });
    const list = async (query = '') =>
      (await t.inject({ method: 'GET', url: url(orgId, query), headers: t.root }))
        .json()
        .data.map((k: { id: string }) => k.id)
        .sort();

    assert.deepEqual(await list(), [k1.id, k2.id, k3.id].sort());
    assert.deepEqual(await list(`?cluster_id=${otherCluster}`), [k2.id]);
    assert.deepEqual(await list(`?owner=${a.ownerId}&cluster_id=${a.clusterId}`), [k1.id, k3.id].sort());

    const revoked = await t.inject({ method: 'POST', url: url(orgId, `/${k1.id}/revoke`), headers: t.root });
    assert.equal(revoked.statusCode, 200);
    assert.equal(revoked.json().status, 'revoked');
    assert.ok(revoked.json().revoked_at);
    const again = await t.inject({ method: 'POST', url: url(orgId, `/${k1.id}/revoke`), headers: t.root });
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().revoked_at, revoked.json().revoked_at);
    assert.deepEqual(await list('?status=revoked'), [k1.id]);
    assert.deepEqual(await list('?status=active'), [k2.id, k3.id].sort());

    await t.store.prisma.clusterKey.update({ where: { id: k3.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    assert.deepEqual(await list('?status=expired'), [k3.id]);

    assert.equal((await t.inject({ method: 'DELETE', url: url(orgId, `/${k2.id}`), headers: t.root })).statusCode, 204);
    assert.equal((await t.inject({ method: 'GET', url: url(orgId, `/${k2.id}`), headers: t.root })).statusCode, 404);
    assert.equal((await t.inject({ method: 'DELETE', url: url(orgId, `/${k2.id}`), headers: t.root })).statusCode, 404);
    assert.deepEqual(await list(), [k1.id, k3.id].sort());
    assert.equal(await verifyCode(t, k2.token, otherCluster), 'REVOKED');

    const bad = await t.inject({ method: 'GET', url: url(orgId, '?status=gone'), headers: t.root });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().errors[0].path, 'status');

    const audit = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/audit-events?target=${k1.id}&action=cluster_key.revoked`, headers: t.root });
    assert.equal(audit.json().data.length, 1, 'a repeated revoke is not audited twice');
    const deleted = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/audit-events?target=${k2.id}&action=cluster_key.deleted`, headers: t.root });
    assert.equal(deleted.json().data.length, 1);
  });

  test('last_used_at is recorded after a successful verification', async () => {
    const orgId = await createOrg(t);
    const { clusterId, ownerId } = await pulsarSetup(t, orgId);
    const key = await createClusterKey(t, orgId, { owner: ownerId, cluster_id: clusterId });
    assert.equal(await verifyCode(t, key.token, clusterId), 'VALID');
    let lastUsed: Date | null = null;
    for (let i = 0; i < 100 && !lastUsed; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      lastUsed = (await t.store.prisma.clusterKey.findUniqueOrThrow({ where: { id: key.id } })).lastUsedAt;
    }
    assert.ok(lastUsed, 'last_used_at was written');
    const get = await t.inject({ method: 'GET', url: url(orgId, `/${key.id}`), headers: t.root });
    assert.equal(get.json().last_used_at, lastUsed!.toISOString());
  });

  test('deleting the owner, the cluster or the organization revokes and removes their keys, audited', async () => {
    const orgId = await createOrg(t);
    const a = await pulsarSetup(t, orgId);
    const b = await pulsarSetup(t, orgId);
    const byOwner = await createClusterKey(t, orgId, { owner: a.ownerId, cluster_id: b.clusterId });
    const byCluster = await createClusterKey(t, orgId, { owner: b.ownerId, cluster_id: a.clusterId });
    assert.equal(await verifyCode(t, byOwner.token, b.clusterId), 'VALID');
    assert.equal(await verifyCode(t, byCluster.token, a.clusterId), 'VALID');

    // Its key was just used: deleting the owner needs force, as with API keys.
    const refused = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${a.ownerId}`, headers: t.root });
    assert.equal(refused.statusCode, 409, refused.body);
    assert.deepEqual(refused.json().key_ids, [byOwner.id]);
    assert.equal(await verifyCode(t, byOwner.token, b.clusterId), 'VALID', 'nothing changed');
    assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/service-accounts/${a.ownerId}?force=true`, headers: t.root })).statusCode, 204);
    assert.equal(await verifyCode(t, byOwner.token, b.clusterId), 'REVOKED');
    assert.equal((await t.inject({ method: 'GET', url: url(orgId, `/${byOwner.id}`), headers: t.root })).statusCode, 404);

    assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/resources/${a.clusterId}`, headers: t.root })).statusCode, 204);
    assert.equal(await verifyCode(t, byCluster.token, a.clusterId), 'REVOKED');
    assert.equal((await t.inject({ method: 'GET', url: url(orgId), headers: t.root })).json().data.length, 0);
    for (const id of [byOwner.id, byCluster.id]) {
      const audit = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/audit-events?target=${id}&action=cluster_key.deleted`, headers: t.root });
      assert.equal(audit.json().data.length, 1, id);
    }

    const survivor = await createClusterKey(t, orgId, { owner: b.ownerId, cluster_id: b.clusterId });
    assert.equal(await verifyCode(t, survivor.token, b.clusterId), 'VALID');
    assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}?force=true`, headers: t.root })).statusCode, 204);
    assert.equal(await verifyCode(t, survivor.token, b.clusterId), 'INVALID');
    assert.equal(await t.store.prisma.clusterKey.count({ where: { orgId } }), 0);
  });
});
