import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'undici';
import { suiteApp } from '../helpers/app.js';
import { basic, createOrg, credentialFor } from '../helpers/principals.js';

/**
 * A keep-alive connection remembers the last Basic credential the caches answered (auth/basic.ts).
 * These run over one real socket, as a Verifier's connection would: what was remembered must never
 * outlive a revoke or a rotation, and must never answer for another credential.
 */
describe('a Basic credential remembered on its connection', () => {
  const t = suiteApp();
  let client: Client;
  let connections = 0;

  before(async () => {
    t.app.server.on('connection', () => connections++);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as { port: number };
    client = new Client(`http://127.0.0.1:${port}`, { pipelining: 1 });
  });
  after(() => client?.close());

  async function list(orgId: string, authorization: string): Promise<number> {
    const res = await client.request({ method: 'GET', path: `/v1/orgs/${orgId}/service-accounts`, headers: { authorization } });
    await res.body.text();
    return res.statusCode;
  }

  /** Two successful requests: the first fills the caches, the second leaves the credential remembered on the connection. */
  async function remembered(orgId: string, authorization: string): Promise<void> {
    for (let i = 0; i < 2; i++) assert.equal(await list(orgId, authorization), 200);
  }

  const admin = (orgId: string) => credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);

  test('answers repeat requests on one connection, and a revoke ends it on the very next request', async () => {
    const orgId = await createOrg(t);
    const caller = await admin(orgId);
    const before = connections;
    await remembered(orgId, caller.authorization);
    assert.equal(await list(orgId, caller.authorization), 200);

    const revoke = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/api-keys/${caller.keyId}`, headers: t.root });
    assert.ok(revoke.statusCode < 300, revoke.body);
    assert.equal(await list(orgId, caller.authorization), 401);
    assert.ok(connections - before <= 1, `one connection carried the requests (${connections - before} opened)`);
  });

  test('a rotation without grace ends the old secret on the same connection; the new one works there', async () => {
    const orgId = await createOrg(t);
    const caller = await admin(orgId);
    await remembered(orgId, caller.authorization);

    const rotate = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys/${caller.keyId}/rotate`, headers: t.root, payload: {} });
    assert.equal(rotate.statusCode, 200, rotate.body);
    assert.equal(await list(orgId, caller.authorization), 401);
    assert.equal(await list(orgId, basic(caller.keyId, rotate.json().secret).authorization), 200);
  });

  test('another credential on the same connection is checked on its own: a wrong secret fails, another key acts as itself', async () => {
    const orgId = await createOrg(t);
    const otherOrgId = await createOrg(t);
    const caller = await admin(orgId);
    const stranger = await admin(otherOrgId);
    await remembered(orgId, caller.authorization);

    // The remembered key's id with a secret of the same shape that is not its own.
    assert.equal(await list(orgId, basic(caller.keyId, stranger.secret).authorization), 401);
    assert.equal(await list(orgId, caller.authorization), 200);
    // Another organization's admin on the same connection is that admin: the first organization does not exist for it.
    assert.equal(await list(orgId, stranger.authorization), 404);
    assert.equal(await list(otherOrgId, stranger.authorization), 200);
    assert.equal(await list(orgId, caller.authorization), 200);
  });

  test('a change to the owner role bindings reaches the same connection at once', async () => {
    const orgId = await createOrg(t);
    const caller = await admin(orgId);
    await remembered(orgId, caller.authorization);

    const bindings = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/role-bindings?principal=${caller.principalId}`, headers: t.root });
    assert.equal(bindings.statusCode, 200, bindings.body);
    const ids = (bindings.json().data as Array<{ id: string; principal: string }>).filter((b) => b.principal === caller.principalId).map((b) => b.id);
    assert.ok(ids.length > 0, bindings.body);
    for (const id of ids) {
      const removed = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/role-bindings/${id}`, headers: t.root });
      assert.ok(removed.statusCode < 300, removed.body);
    }
    assert.equal(await list(orgId, caller.authorization), 403);
  });
});
