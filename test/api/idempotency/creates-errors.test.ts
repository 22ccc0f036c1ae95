import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { idempotencyFixtures, newKey } from '../../helpers/idempotency.js';

describe('Idempotency-Key on creates: errors', () => {
  const t = suiteApp();
  const { orgWithOwner, createKey, keysOf } = idempotencyFixtures(() => t);

  test('the same key with another body is refused with 422 idempotency_key_reused and creates nothing', async () => {
    const { orgId, ownerId } = await orgWithOwner();
    const key = newKey();
    assert.equal((await createKey(orgId, { owner: ownerId, scope: { type: 'cloud' }, description: 'one' }, key)).statusCode, 201);
    const other = await createKey(orgId, { owner: ownerId, scope: { type: 'cloud' }, description: 'two' }, key);
    assert.equal(other.statusCode, 422);
    assert.match(String(other.headers['content-type']), /^application\/problem\+json/);
    assert.equal(other.json().code, 'idempotency_key_reused');
    assert.equal(await keysOf(ownerId), 1);
    // Another route with the same key is another request too.
    const env = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/environments`,
      headers: { ...t.root, 'idempotency-key': key },
      payload: { display_name: 'e' },
    });
    assert.equal(env.json().code, 'idempotency_key_reused');
  });

  test('an invalid Idempotency-Key is 422 invalid_idempotency_key naming the header, and nothing is created', async () => {
    for (const bad of ['short-key-15chr', 'x'.repeat(256), 'has a space in it ok', 'tab\there-0123456789', 'caf\u00e9-0123456789abcdef']) {
      const name = uniqueName('org');
      const res = await t.inject({ method: 'POST', url: '/v1/orgs', headers: { ...t.root, 'idempotency-key': bad }, payload: { name } });
      assert.equal(res.statusCode, 422, `${JSON.stringify(bad)}: ${res.body}`);
      assert.equal(res.json().code, 'invalid_idempotency_key');
      assert.deepEqual(
        res.json().errors.map((e: { path: string }) => e.path),
        ['Idempotency-Key'],
      );
      assert.equal(await t.store.prisma.organization.count({ where: { name } }), 0);
    }
    // The boundaries themselves are accepted: 16 and 255 characters, `!` and `~` included.
    for (const good of [randomBytes(8).toString('hex'), `!~${randomBytes(128).toString('hex')}`.slice(0, 255)]) {
      const res = await t.inject({ method: 'POST', url: '/v1/orgs', headers: { ...t.root, 'idempotency-key': good }, payload: { name: uniqueName('org') } });
      assert.equal(res.statusCode, 201, res.body);
    }
  });
});
