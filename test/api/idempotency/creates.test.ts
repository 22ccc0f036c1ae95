import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { requestFingerprint } from '../../../src/plugins/idempotency.js';
import { claimIdempotencyKey, purgeExpiredIdempotencyRecords } from '../../../src/store/idempotency.js';
import { startTestApp, suiteApp, TEST_DATABASE_URL, uniqueName } from '../../helpers/app.js';
import { idempotencyFixtures, keyHash, newKey } from '../../helpers/idempotency.js';
import { createAsRoot, createOrg, credentialFor } from '../../helpers/principals.js';

describe('Idempotency-Key on creates', () => {
  const t = suiteApp();
  const { orgWithOwner, createKey, keysOf, recordsOf } = idempotencyFixtures(() => t);

  test('a retry with the same key and body replays the first response, secret included, and creates nothing', async () => {
    const { orgId, ownerId } = await orgWithOwner();
    const key = newKey();
    const body = { owner: ownerId, scope: { type: 'cloud' }, description: 'ci' };
    const first = await createKey(orgId, body, key);
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.headers['idempotent-replayed'], undefined);
    // Key order does not make another request.
    const again = await createKey(orgId, { description: 'ci', scope: { type: 'cloud' }, owner: ownerId }, key);
    assert.equal(again.statusCode, 201);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    assert.match(String(again.headers['content-type']), /^application\/json/);
    assert.deepEqual(again.json(), first.json());
    assert.equal(again.json().secret, first.json().secret);
    assert.notEqual(again.headers['x-request-id'], first.headers['x-request-id']);
    assert.equal(await keysOf(ownerId), 1);
    // Without the header nothing changes: a second key.
    assert.equal((await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys`, headers: t.root, payload: body })).statusCode, 201);
    assert.equal(await keysOf(ownerId), 2);
  });

  test('rotate with the same key twice rotates once and replays the same new secret', async () => {
    const { orgId, ownerId } = await orgWithOwner();
    const created = await createAsRoot(t, `/v1/orgs/${orgId}/api-keys`, { owner: ownerId, scope: { type: 'cloud' } });
    const key = newKey();
    const rotate = () =>
      t.inject({
        method: 'POST',
        url: `/v1/orgs/${orgId}/api-keys/${created.id}/rotate`,
        headers: { ...t.root, 'idempotency-key': key },
        payload: { grace_period_seconds: 0 },
      });
    const first = await rotate();
    assert.equal(first.statusCode, 200, first.body);
    const second = await rotate();
    assert.equal(second.statusCode, 200);
    assert.equal(second.headers['idempotent-replayed'], 'true');
    assert.equal(second.json().secret, first.json().secret);
    const verify = await t.inject({
      method: 'POST',
      url: '/v1/verify/api-key',
      headers: t.root,
      payload: { key: created.id, secret: first.json().secret, resource_id: 'cloud' },
    });
    assert.equal(verify.json().code, 'VALID', 'the replayed secret is the one in force: no second rotation happened');
  });

  test('20 concurrent duplicates create one key; the others replay it or are told it is in flight', async () => {
    const { orgId, ownerId } = await orgWithOwner();
    const key = newKey();
    const body = { owner: ownerId, scope: { type: 'cloud' } };
    const answers = await Promise.all(Array.from({ length: 20 }, () => createKey(orgId, body, key)));
    const created = answers.filter((a) => a.statusCode === 201);
    const inFlight = answers.filter((a) => a.statusCode === 409);
    assert.equal(created.length + inFlight.length, 20, answers.map((a) => a.statusCode).join(','));
    assert.equal(new Set(created.map((a) => a.json().id)).size, 1);
    assert.equal(created.filter((a) => a.headers['idempotent-replayed'] !== 'true').length, 1, 'exactly one original response');
    for (const answer of inFlight) {
      assert.equal(answer.json().code, 'idempotency_key_in_flight');
      assert.equal(answer.headers['retry-after'], '1');
    }
    assert.equal(await keysOf(ownerId), 1);
    assert.equal(await recordsOf('root', key), 1);
  });

  test('two app instances on one database share the claim', async () => {
    const second = await startTestApp(TEST_DATABASE_URL ? {} : { store: t.store });
    try {
      const { orgId, ownerId } = await orgWithOwner();
      const key = newKey();
      const body = { owner: ownerId, scope: { type: 'cloud' }, description: 'two replicas' };
      const request = { method: 'POST' as const, url: `/v1/orgs/${orgId}/api-keys`, headers: { ...t.root, 'idempotency-key': key }, payload: body };
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? second.inject(request) : t.inject(request))));
      const created = answers.filter((a) => a.statusCode === 201);
      assert.ok(
        answers.every((a) => a.statusCode === 201 || a.statusCode === 409),
        answers.map((a) => a.statusCode).join(','),
      );
      assert.equal(new Set(created.map((a) => a.json().id)).size, 1);
      // Once complete, either replica replays it.
      const fromSecond = await second.inject(request);
      const fromFirst = await t.inject(request);
      assert.equal(fromSecond.headers['idempotent-replayed'], 'true');
      assert.equal(fromFirst.headers['idempotent-replayed'], 'true');
      assert.equal(fromSecond.json().secret, fromFirst.json().secret);
      assert.equal(await keysOf(ownerId), 1);
    } finally {
      await second.close();
    }
  });

  test('a first attempt that failed with 4xx is not remembered: the corrected request succeeds with the same key', async () => {
    const { orgId, ownerId } = await orgWithOwner();
    const key = newKey();
    const failed = await createKey(orgId, { owner: 'sa-doesnotexist', scope: { type: 'cloud' } }, key);
    assert.ok(failed.statusCode >= 400 && failed.statusCode < 500, failed.body);
    assert.equal(await recordsOf('root', key), 0);
    const retried = await createKey(orgId, { owner: 'sa-doesnotexist', scope: { type: 'cloud' } }, key);
    assert.equal(retried.statusCode, failed.statusCode);
    assert.equal(retried.headers['idempotent-replayed'], undefined);
    const fixed = await createKey(orgId, { owner: ownerId, scope: { type: 'cloud' } }, key);
    assert.equal(fixed.statusCode, 201, fixed.body);
    assert.equal(fixed.headers['idempotent-replayed'], undefined);
    assert.equal(await keysOf(ownerId), 1);
  });

  test('/iam/v2 creates replay in Confluent’s shape', async () => {
    const orgId = await createOrg(t);
    const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const key = newKey();
    const create = () =>
      t.inject({
        method: 'POST',
        url: '/iam/v2/service-accounts',
        headers: { authorization: admin.authorization, 'idempotency-key': key },
        payload: { display_name: uniqueName('sa'), description: 'x' },
      });
    const first = await create();
    assert.equal(first.statusCode, 201, first.body);
    const reused = await create();
    assert.equal(reused.statusCode, 422);
    assert.equal(reused.json().errors[0].code, 'idempotency_key_reused');
    const bad = await t.inject({
      method: 'POST',
      url: '/iam/v2/service-accounts',
      headers: { authorization: admin.authorization, 'idempotency-key': 'short' },
      payload: { display_name: 'x' },
    });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().errors[0].code, 'invalid_idempotency_key');
  });

  test('after 24 hours a record expires: the key creates again, and the cleanup deletes expired records', async () => {
    const { orgId, ownerId } = await orgWithOwner();
    const key = newKey();
    const body = { owner: ownerId, scope: { type: 'cloud' } };
    const first = await createKey(orgId, body, key);
    assert.equal(first.statusCode, 201);
    const record = await t.store.prisma.idempotencyRecord.findUniqueOrThrow({ where: { scope_keyHash: { scope: 'root', keyHash: keyHash(key) } } });
    const ttl = record.expiresAt.getTime() - record.createdAt.getTime();
    assert.equal(ttl, 24 * 60 * 60_000);
    // Let a day pass for this record.
    await t.store.prisma.idempotencyRecord.update({
      where: { scope_keyHash: { scope: 'root', keyHash: keyHash(key) } },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const later = await createKey(orgId, body, key);
    assert.equal(later.statusCode, 201);
    assert.equal(later.headers['idempotent-replayed'], undefined);
    assert.notEqual(later.json().id, first.json().id);
    assert.equal(await keysOf(ownerId), 2);

    await t.store.prisma.idempotencyRecord.update({
      where: { scope_keyHash: { scope: 'root', keyHash: keyHash(key) } },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    assert.ok((await purgeExpiredIdempotencyRecords(t.store.prisma)) >= 1);
    assert.equal(await recordsOf('root', key), 0);
  });

  test('an in-flight claim whose request died blocks only until its lease runs out', async () => {
    const { orgId, ownerId } = await orgWithOwner();
    const key = newKey();
    const body = { owner: ownerId, scope: { type: 'cloud' } };
    // A replica claimed the key for this very request and crashed before answering: its row stays in flight.
    const fingerprint = requestFingerprint('POST', '/v1/orgs/:org_id/api-keys', { org_id: orgId }, body);
    const claim = await claimIdempotencyKey(t.store.prisma, {
      scope: 'root',
      keyHash: keyHash(key),
      fingerprint,
      owner: 'dead-replica',
      leaseMs: 60_000,
      ttlMs: 86_400_000,
    });
    assert.equal(claim.state, 'claimed');
    const blocked = await createKey(orgId, body, key);
    assert.equal(blocked.statusCode, 409, blocked.body);
    assert.equal(blocked.json().code, 'idempotency_key_in_flight');
    assert.equal(await keysOf(ownerId), 0);
    // The lease runs out (two minutes in production): the next retry takes the claim over and creates.
    await t.store.prisma.idempotencyRecord.update({
      where: { scope_keyHash: { scope: 'root', keyHash: keyHash(key) } },
      data: { leaseUntil: new Date(Date.now() - 1000) },
    });
    const taken = await createKey(orgId, body, key);
    assert.equal(taken.statusCode, 201, taken.body);
    assert.equal(taken.headers['idempotent-replayed'], undefined);
    assert.equal((await createKey(orgId, body, key)).headers['idempotent-replayed'], 'true');
    assert.equal(await keysOf(ownerId), 1);
  });
});
