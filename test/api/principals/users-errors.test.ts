import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp } from '../../helpers/app.js';
import { userFixtures } from '../../helpers/principals.js';
import { paths } from '../../helpers/problems.js';

describe('users: errors', () => {
  const t = suiteApp();
  const { newOrg, createUser, newUser } = userFixtures(() => t);

  test('an email already used in the organization, in any case, is 409; another organization may reuse it', async () => {
    const orgId = await newOrg();
    await newUser(orgId, 'grace@example.com');
    const dup = await createUser(orgId, { email: 'GRACE@example.com' });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().code, 'name_taken');
    assert.match(dup.json().detail, /grace@example\.com/);
    assert.equal(await t.store.prisma.principal.count({ where: { orgId } }), 1);
    assert.equal((await createUser(await newOrg(), { email: 'grace@example.com' })).statusCode, 201);
  });

  test('invalid bodies are 422 naming every bad field', async () => {
    const orgId = await newOrg();
    const res = await createUser(orgId, { email: 'not-an-email', full_name: 'x'.repeat(300), display_name: 'nope' });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(paths(res.json()), ['display_name', 'email', 'full_name']);
    assert.deepEqual(paths((await createUser(orgId, {})).json()), ['email']);
    assert.equal(await t.store.prisma.principal.count({ where: { orgId } }), 0);
  });
});
