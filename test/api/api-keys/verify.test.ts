import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSecret, SecretPrefix } from '../../../src/crypto/tokens.js';
import { suiteApp } from '../../helpers/app.js';
import { verifyFixtures } from '../../helpers/verify.js';

describe('POST /v1/verify/api-key', () => {
  const t = suiteApp(() => ({ env: { LATCHKEY_VERIFY_FAILURES_PER_KEY_PER_MINUTE: '5', LATCHKEY_VERIFY_FAILURES_PER_ADDRESS_PER_MINUTE: '1000' } }));
  const { resourceKey } = verifyFixtures(() => t);

  const verify = (payload: object, headers: Record<string, string> = t.root, remoteAddress?: string) =>
    t.inject({ method: 'POST', url: '/v1/verify/api-key', headers, payload, ...(remoteAddress ? { remoteAddress } : {}) });

  test('a valid key answers VALID with key, principal and organization', async () => {
    const key = await resourceKey();
    const res = await verify({ key: key.id, secret: key.secret, resource_id: key.resourceId });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      valid: true,
      code: 'VALID',
      key: { id: key.id, type: 'resource', scope: { type: 'resource', resource_id: key.resourceId }, expires_at: null },
      principal: { id: key.ownerId, type: 'service_account' },
      org_id: key.orgId,
    });
  });

  test('unknown key, wrong secret and malformed secret all answer INVALID', async () => {
    const key = await resourceKey();
    const flipped = key.secret.slice(0, 10) + (key.secret[10] === 'a' ? 'b' : 'a') + key.secret.slice(11);
    for (const payload of [
      { key: 'ZZZZZZZZZZZZZZZZ', secret: key.secret, resource_id: key.resourceId },
      { key: key.id, secret: generateSecret(SecretPrefix.apiKey), resource_id: key.resourceId },
      { key: key.id, secret: flipped, resource_id: key.resourceId },
      { key: key.id, secret: 'lks_not-a-secret', resource_id: key.resourceId },
      { key: 'not-an-id', secret: key.secret, resource_id: key.resourceId },
    ]) {
      const res = await verify(payload, t.root, '10.1.0.1');
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), { valid: false, code: 'INVALID' });
    }
  });

  test('a key verified a moment ago blocks deleting its owner, even before the batched usage write', async () => {
    const key = await resourceKey();
    assert.equal((await verify({ key: key.id, secret: key.secret, resource_id: key.resourceId })).json().code, 'VALID');
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${key.orgId}/service-accounts/${key.ownerId}`, headers: t.root });
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(res.json().code, 'recently_used');
    assert.deepEqual(res.json().key_ids, [key.id]);
    const forced = await t.inject({ method: 'DELETE', url: `/v1/orgs/${key.orgId}/service-accounts/${key.ownerId}?force=true`, headers: t.root });
    assert.equal(forced.statusCode, 204);
    assert.equal((await verify({ key: key.id, secret: key.secret, resource_id: key.resourceId })).json().code, 'INVALID');
  });

  test('usage is recorded in last_used_at', async () => {
    const key = await resourceKey();
    await verify({ key: key.id, secret: key.secret, resource_id: key.resourceId });
    let lastUsed: Date | null = null;
    for (let i = 0; i < 40 && !lastUsed; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      lastUsed = (await t.store.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).lastUsedAt;
    }
    assert.ok(lastUsed && Date.now() - lastUsed.getTime() < 10_000);
  });
});
