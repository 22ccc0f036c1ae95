import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApp, uniqueName, type TestApp } from '../../helpers/app.js';
import { basic, createAsRoot, createCluster, createOrg, credentialFor } from '../../helpers/principals.js';

describe('API keys', () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp();
  });
  after(() => t.close());

  async function setup() {
    const orgId = await createOrg(t);
    const { environmentId, resourceId } = await createCluster(t, orgId);
    const owner = await createAsRoot(t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName('owner') });
    return { orgId, environmentId, resourceId, ownerId: owner.id as string };
  }

  const createKey = (orgId: string, payload: object, headers: Record<string, string> = t.root) =>
    t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys`, headers, payload });

  const verify = (key: string, secret: string, resource_id: string, headers: Record<string, string> = t.root) =>
    t.inject({ method: 'POST', url: '/v1/verify/api-key', headers, payload: { key, secret, resource_id } });

  test('creates a resource key whose secret is shown once and stored only as an argon2id hash', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const res = await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId }, display_name: 'orders-producer', description: 'CI' });
    assert.equal(res.statusCode, 201, res.body);
    const key = res.json();
    assert.match(key.id, /^[A-Z0-9]{16}$/);
    assert.match(key.secret, /^lks_[0-9A-Za-z]{49}$/);
    assert.equal(key.secret_hint, key.secret.slice(-4));
    assert.deepEqual(key.owner, { id: ownerId, type: 'service_account' });
    assert.deepEqual(key.scope, { type: 'resource', resource_id: resourceId });
    assert.equal(key.status, 'active');

    const row = await t.store.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    assert.match(row.secretHash, /^\$argon2id\$/);
    assert.ok(!JSON.stringify(row).includes(key.secret));

    const get = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: t.root });
    assert.equal(get.statusCode, 200);
    assert.equal(get.json().secret, undefined);
    assert.ok(!get.body.includes(key.secret));

    const audit = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/audit-events?action=api_key.create&target=${key.id}`, headers: t.root });
    assert.equal(audit.json().data.length, 1);
  });

  test('cloud and Flink keys verify against their own scope only', async () => {
    const { orgId, environmentId, ownerId } = await setup();
    const cloud = (await createKey(orgId, { owner: ownerId, scope: { type: 'cloud' } })).json();
    const flink = (await createKey(orgId, { owner: ownerId, scope: { type: 'flink', environment_id: environmentId, cloud: 'aws', region: 'us-east-2' } })).json();
    assert.equal((await verify(cloud.id, cloud.secret, 'cloud')).json().code, 'VALID');
    assert.equal((await verify(flink.id, flink.secret, `${environmentId}.aws.us-east-2`)).json().code, 'VALID');
    assert.equal((await verify(flink.id, flink.secret, `${environmentId}.aws.us-west-2`)).json().code, 'WRONG_RESOURCE');
    assert.equal((await verify(cloud.id, cloud.secret, environmentId)).json().code, 'WRONG_RESOURCE');
  });

  test('an unknown Flink region, a foreign resource, a pulsar cluster and a past expiry are 422 naming the field', async () => {
    const { orgId, environmentId, ownerId } = await setup();
    const other = await setup();
    const pulsar = await createAsRoot(t, `/v1/orgs/${orgId}/resources`, { kind: 'pulsar_cluster', display_name: uniqueName(), environment_id: environmentId });
    const cases: Array<[object, string]> = [
      [{ owner: ownerId, scope: { type: 'flink', environment_id: environmentId, cloud: 'aws', region: 'mars-1' } }, 'scope.region'],
      [{ owner: ownerId, scope: { type: 'resource', resource_id: other.resourceId } }, 'scope.resource_id'],
      [{ owner: ownerId, scope: { type: 'resource', resource_id: pulsar.id } }, 'scope.resource_id'],
      [{ owner: ownerId, scope: { type: 'cloud' }, expires_at: '2020-01-01T00:00:00Z' }, 'expires_at'],
      [{ owner: other.ownerId, scope: { type: 'cloud' } }, 'owner'],
      [{ owner: ownerId, scope: { type: 'cloud' }, secret: 'mine' }, 'secret'],
    ];
    for (const [payload, path] of cases) {
      const res = await createKey(orgId, payload);
      assert.equal(res.statusCode, 422, `${path}: ${res.body}`);
      assert.ok(res.json().errors.some((e: { path: string }) => e.path === path), `${path} named in ${res.body}`);
    }
    assert.equal(await t.store.prisma.apiKey.count({ where: { orgId } }), 0);
  });

  test('PATCH changes display_name and description only; other fields are 422 immutable_field', async () => {
    const { orgId, ownerId } = await setup();
    const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'cloud' } })).json();
    const ok = await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: t.root, payload: { display_name: 'renamed', description: 'new' } });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.json().display_name, 'renamed');
    const bad = await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: t.root, payload: { display_name: 'x', owner: 'sa-other', scope: { type: 'cloud' } } });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().code, 'immutable_field');
    assert.deepEqual(bad.json().errors.map((e: { path: string }) => e.path).sort(), ['owner', 'scope']);
    const row = await t.store.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    assert.equal(row.displayName, 'renamed');
  });

  test('rotate keeps the old secret valid for the grace period and returns a new secret once', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId } })).json();
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'VALID');
    const res = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${key.id}/rotate`, headers: t.root, payload: { grace_period_seconds: 3600 } });
    assert.equal(res.statusCode, 200, res.body);
    const rotated = res.json();
    assert.notEqual(rotated.secret, key.secret);
    assert.equal(rotated.secret_hint, rotated.secret.slice(-4));
    const deadline = Date.parse(rotated.previous_secret_expires_at) - Date.now();
    assert.ok(deadline > 3500_000 && deadline <= 3600_000, `grace ends in about an hour (${deadline} ms)`);
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'VALID');
    assert.equal((await verify(key.id, rotated.secret, resourceId)).json().code, 'VALID');
  });

  test('rotate without grace ends the old secret at once; grace never outlives the key', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const expiresAt = new Date(Date.now() + 120_000).toISOString();
    const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId }, expires_at: expiresAt })).json();
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'VALID');
    const noGrace = (await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${key.id}/rotate`, headers: t.root, payload: {} })).json();
    assert.equal(noGrace.previous_secret_expires_at, null);
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'INVALID');
    const capped = (await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${key.id}/rotate`, headers: t.root, payload: { grace_period_seconds: 86400 } })).json();
    assert.equal(capped.previous_secret_expires_at, expiresAt);
    const bad = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${key.id}/rotate`, headers: t.root, payload: { grace_period_seconds: 86401 } });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().errors[0].path, 'grace_period_seconds');
  });

  test('a second rotation while a grace period runs is 409 and keeps both secrets; without grace it ends every old secret', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId } })).json();
    const rotate = (payload: object) => t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${key.id}/rotate`, headers: t.root, payload });
    const first = await rotate({ grace_period_seconds: 3600 });
    assert.equal(first.statusCode, 200);
    const second = await rotate({ grace_period_seconds: 3600 });
    assert.equal(second.statusCode, 409, second.body);
    assert.equal(second.json().code, 'conflict');
    assert.match(second.json().detail, /grace_period_seconds/);
    assert.ok(!second.body.includes('lks_'), 'no secret in the refusal');
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'VALID', 'the first grace still runs');
    assert.equal((await verify(key.id, first.json().secret, resourceId)).json().code, 'VALID');
    const actions = await t.store.prisma.auditEvent.findMany({ where: { orgId, target: key.id, action: 'api_key.rotate' } });
    assert.equal(actions.length, 1, 'the refused rotation is not audited');

    const emergency = await rotate({ grace_period_seconds: 0 });
    assert.equal(emergency.statusCode, 200);
    assert.equal(emergency.json().previous_secret_expires_at, null);
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'INVALID');
    assert.equal((await verify(key.id, first.json().secret, resourceId)).json().code, 'INVALID');
    assert.equal((await verify(key.id, emergency.json().secret, resourceId)).json().code, 'VALID');
  });

  test('concurrent deletes of one key revoke it once and write one audit event', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId } })).json();
    const results = await Promise.all(Array.from({ length: 8 }, () => t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: t.root })));
    assert.deepEqual(results.map((r) => r.statusCode), Array(8).fill(204));
    assert.equal(await t.store.prisma.auditEvent.count({ where: { orgId, target: key.id, action: 'api_key.delete' } }), 1);
  });

  test('delete revokes: the right secret then answers REVOKED, a wrong one INVALID, and the key shows as revoked', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId } })).json();
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'VALID');
    const del = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: t.root });
    assert.equal(del.statusCode, 204);
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'REVOKED');
    const wrong = key.secret.slice(0, -10) + 'AAAAAAAAAA';
    assert.equal((await verify(key.id, wrong, resourceId)).json().code, 'INVALID');
    const list = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys?status=revoked`, headers: t.root });
    assert.deepEqual(list.json().data.map((k: { id: string }) => k.id), [key.id]);
    assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: t.root })).statusCode, 204);
    const rotate = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${key.id}/rotate`, headers: t.root, payload: {} });
    assert.equal(rotate.statusCode, 409);
  });

  test('an expired key verifies as EXPIRED', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId }, expires_at: new Date(Date.now() + 60_000).toISOString() })).json();
    await t.store.prisma.apiKey.update({ where: { id: key.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    assert.equal((await verify(key.id, key.secret, resourceId)).json().code, 'EXPIRED');
    const list = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys?status=expired`, headers: t.root });
    assert.deepEqual(list.json().data.map((k: { id: string }) => k.id), [key.id]);
  });

  test('lists with filters and pages without repeats', async () => {
    const { orgId, resourceId, ownerId } = await setup();
    const other = await createAsRoot(t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName() });
    for (let i = 0; i < 3; i++) await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId } });
    await createKey(orgId, { owner: other.id, scope: { type: 'cloud' } });
    const byOwner = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys?owner=${ownerId}&page_size=2`, headers: t.root });
    assert.equal(byOwner.json().data.length, 2);
    const next = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys?owner=${ownerId}&page_size=2&page_token=${byOwner.json().next_page_token}`, headers: t.root });
    assert.equal(next.json().data.length, 1);
    assert.equal(next.json().next_page_token, null);
    const ids = [...byOwner.json().data, ...next.json().data].map((k: { id: string }) => k.id);
    assert.equal(new Set(ids).size, 3);
    const cloud = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys?type=cloud`, headers: t.root });
    assert.deepEqual(cloud.json().data.map((k: { owner: { id: string } }) => k.owner.id), [other.id]);
    const byResource = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys?resource_id=${resourceId}`, headers: t.root });
    assert.equal(byResource.json().data.length, 3);
  });

  test('quota: the eleventh cloud key of a principal is 409 quota_exceeded (org setting lowers it)', async () => {
    const orgId = await createOrg(t, { cloud_key_quota: 2 });
    const sa = await createAsRoot(t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName() });
    const results = await Promise.all([0, 1, 2, 3].map(() => createKey(orgId, { owner: sa.id, scope: { type: 'cloud' } })));
    assert.deepEqual(results.map((r) => r.statusCode).sort(), [201, 201, 409, 409]);
    assert.equal(results.find((r) => r.statusCode === 409)!.json().code, 'quota_exceeded');
    assert.equal(await t.store.prisma.apiKey.count({ where: { ownerId: sa.id } }), 2);
  });

  describe('who may create', () => {
    test('cloud keys need OrganizationAdmin', async () => {
      const { orgId, ownerId } = await setup();
      const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const envAdmin = await credentialFor(t, orgId, []);
      assert.equal((await createKey(orgId, { owner: ownerId, scope: { type: 'cloud' } }, { authorization: admin.authorization })).statusCode, 201);
      const denied = await createKey(orgId, { owner: ownerId, scope: { type: 'cloud' } }, { authorization: envAdmin.authorization });
      assert.equal(denied.statusCode, 403);
      assert.equal(denied.json().code, 'forbidden');
    });

    test('resource keys: a role on the resource, its environment or the org; Developer roles only for themselves', async () => {
      const { orgId, environmentId, resourceId, ownerId } = await setup();
      const scope = { type: 'resource', resource_id: resourceId };
      const onResource = await credentialFor(t, orgId, [{ role: 'ResourceOwner', scope: { type: 'resource', id: resourceId } }]);
      const onEnv = await credentialFor(t, orgId, [{ role: 'EnvironmentAdmin', scope: { type: 'environment', id: environmentId } }]);
      const developer = await credentialFor(t, orgId, [{ role: 'DeveloperWrite', scope: { type: 'resource', id: resourceId } }]);
      const elsewhere = await createCluster(t, orgId);
      const unrelated = await credentialFor(t, orgId, [{ role: 'ResourceOwner', scope: { type: 'resource', id: elsewhere.resourceId } }]);

      assert.equal((await createKey(orgId, { owner: ownerId, scope }, { authorization: onResource.authorization })).statusCode, 201);
      assert.equal((await createKey(orgId, { owner: ownerId, scope }, { authorization: onEnv.authorization })).statusCode, 201);
      assert.equal((await createKey(orgId, { owner: developer.principalId, scope }, { authorization: developer.authorization })).statusCode, 201);
      assert.equal((await createKey(orgId, { owner: ownerId, scope }, { authorization: developer.authorization })).statusCode, 403);
      assert.equal((await createKey(orgId, { owner: ownerId, scope }, { authorization: unrelated.authorization })).statusCode, 403);
    });

    test("another tenant's credential sees 404, no credential 401, a resource key 401", async () => {
      const { orgId, resourceId, ownerId } = await setup();
      const stranger = await setup();
      const foreign = await credentialFor(t, stranger.orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
      const res = await createKey(orgId, { owner: ownerId, scope: { type: 'cloud' } }, { authorization: foreign.authorization });
      assert.equal(res.statusCode, 404);
      const key = (await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId } })).json();
      const asForeign = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys/${key.id}`, headers: { authorization: foreign.authorization } });
      assert.equal(asForeign.statusCode, 404);
      const none = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys` });
      assert.equal(none.statusCode, 401);
      assert.match(String(none.headers['www-authenticate']), /Basic/);
      const withResourceKey = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys`, headers: basic(key.id, key.secret) });
      assert.equal(withResourceKey.statusCode, 401);
    });

    test('no privilege borrowing: an Operator may not issue or rotate keys for a human admin or a service account holding more than it does', async () => {
      const { orgId, resourceId } = await setup();
      const scope = { type: 'resource', resource_id: resourceId };
      const operator = await credentialFor(t, orgId, [{ role: 'Operator', scope: { type: 'organization' } }]);
      const headers = { authorization: operator.authorization };
      const human = await createAsRoot(t, `/v1/orgs/${orgId}/users`, { email: `${uniqueName('admin')}@example.com` });
      await createAsRoot(t, `/v1/orgs/${orgId}/role-bindings`, { principal: human.id, role: 'OrganizationAdmin', scope: { type: 'organization' } });
      const reader = await createAsRoot(t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName('reader') });
      await createAsRoot(t, `/v1/orgs/${orgId}/role-bindings`, { principal: reader.id, role: 'DeveloperRead', scope: { type: 'resource', id: resourceId } });
      const peer = await createAsRoot(t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName('peer') });
      await createAsRoot(t, `/v1/orgs/${orgId}/role-bindings`, { principal: peer.id, role: 'Operator', scope: { type: 'resource', id: resourceId } });

      const forHuman = await createKey(orgId, { owner: human.id, scope }, headers);
      assert.equal(forHuman.statusCode, 403, forHuman.body);
      assert.equal(forHuman.json().code, 'forbidden');
      assert.equal((await createKey(orgId, { owner: reader.id, scope }, headers)).statusCode, 403);
      assert.equal((await createKey(orgId, { owner: peer.id, scope }, headers)).statusCode, 201);
      assert.equal((await createKey(orgId, { owner: operator.principalId, scope }, headers)).statusCode, 201);
      assert.equal(await t.store.prisma.apiKey.count({ where: { orgId, ownerId: { in: [human.id, reader.id] } } }), 0);

      const humansKey = (await createKey(orgId, { owner: human.id, scope })).json();
      const rotate = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${humansKey.id}/rotate`, headers, payload: {} });
      assert.equal(rotate.statusCode, 403);
      assert.ok(!rotate.body.includes('lks_'));
      assert.equal((await verify(humansKey.id, humansKey.secret, resourceId)).json().code, 'VALID', 'the refused rotation changed nothing');
    });

    test('a principal without management roles sees only its own keys', async () => {
      const { orgId, resourceId, ownerId } = await setup();
      const developer = await credentialFor(t, orgId, [{ role: 'DeveloperRead', scope: { type: 'resource', id: resourceId } }]);
      await createKey(orgId, { owner: ownerId, scope: { type: 'resource', resource_id: resourceId } });
      const list = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/api-keys`, headers: { authorization: developer.authorization } });
      assert.equal(list.statusCode, 200);
      assert.deepEqual(list.json().data.map((k: { owner: { id: string } }) => k.owner.id), [developer.principalId]);
    });
  });

  test('GET /v1/flink-regions lists the catalog', async () => {
    const res = await t.inject({ method: 'GET', url: '/v1/flink-regions', headers: t.root });
    assert.equal(res.statusCode, 200);
    assert.ok(res.json().data.some((r: { id: string }) => r.id === 'aws.us-east-2'));
  });
});
