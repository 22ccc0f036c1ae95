import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { apiKeyFixtures } from '../../helpers/api-keys.js';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { basic, createAsRoot, createCluster, credentialFor } from '../../helpers/principals.js';

describe('API keys: security', () => {
  const t = suiteApp();
  const { setup, createKey, verify } = apiKeyFixtures(() => t);

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
      assert.deepEqual(
        list.json().data.map((k: { owner: { id: string } }) => k.owner.id),
        [developer.principalId],
      );
    });
  });
});
