import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { idempotencyFixtures, keyHash, newKey } from '../../helpers/idempotency.js';
import { createOrg, credentialFor } from '../../helpers/principals.js';

describe('Idempotency-Key on creates: security', () => {
  const t = suiteApp();
  const { orgWithOwner, createKey } = idempotencyFixtures(() => t);

  test('the stored response reveals neither the secret nor the key to someone holding only the database', async () => {
    const { orgId, ownerId } = await orgWithOwner();
    const key = newKey();
    const res = await createKey(orgId, { owner: ownerId, scope: { type: 'cloud' } }, key);
    assert.equal(res.statusCode, 201);
    const { id, secret } = res.json();
    const dump = (await t.store.prisma.$queryRawUnsafe<Array<{ row: string }>>('SELECT row_to_json(r)::text AS row FROM idempotency_records r'))
      .map((r) => r.row)
      .join('\n');
    assert.ok(dump.includes(keyHash(key)), 'the dump holds the record');
    for (const needle of [secret, secret.slice(-20), key, id]) assert.ok(!dump.includes(needle), `dump must not contain ${needle.slice(0, 6)}…`);
    assert.ok(!t.logs.some((line) => line.includes(secret)), 'no log line holds the secret');
  });

  test('the key is scoped to the caller: another principal with the same key makes its own create', async () => {
    const orgId = await createOrg(t);
    const alice = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const bob = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const key = newKey();
    const create = (authorization: string) =>
      t.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/service-accounts`,
        headers: { authorization, 'idempotency-key': key },
        payload: { display_name: `same-name-per-caller${key.slice(-6)}` },
      });
    const a = await create(alice.authorization);
    assert.equal(a.statusCode, 201, a.body);
    const b = await create(bob.authorization);
    assert.notEqual(b.headers['idempotent-replayed'], 'true');
    assert.equal(b.json().code, 'name_taken', 'bob’s request ran (and met alice’s account) instead of replaying hers');
    const again = await create(alice.authorization);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.equal(again.json().id, a.json().id);
  });
});
