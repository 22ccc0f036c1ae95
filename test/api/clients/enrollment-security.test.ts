import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startTestApp, suiteApp, uniqueName } from '../../helpers/app.js';
import { clientFixtures } from '../../helpers/clients.js';
import { createAsRoot, createOrg } from '../../helpers/principals.js';

describe('kdb Insights client enrollment: security', () => {
  const t = suiteApp(() => ({ env: { LATCHKEY_CLIENT_DETAILS_FAILURES_PER_ADDRESS_PER_MINUTE: '1000', LATCHKEY_RATE_LIMITED_DELAY_MS: '0' } }));
  const { deployment, accessToken, enrol, leave, topics, enrolled } = clientFixtures(() => t);

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  test('a database dump holds neither a client id nor a generated private key', async () => {
    const orgId = await createOrg(t);
    const { id } = await deployment(orgId);
    const a = await enrolled(t.root, uniqueName('c'), `?resource_id=${id}`);
    const b = await enrolled(t.root, uniqueName('c'), `?resource_id=${id}`);
    const dump = JSON.stringify(
      await Promise.all([
        t.store.prisma.clientEnrollment.findMany({ where: { orgId } }),
        t.store.prisma.certificateAuthority.findMany({ where: { orgId } }),
        t.store.prisma.auditEvent.findMany({ where: { orgId } }),
        t.store.prisma.resource.findMany({ where: { orgId } }),
      ]),
      (_key, value) => (typeof value === 'bigint' ? value.toString() : value),
    );
    for (const client of [a, b]) {
      assert.ok(!dump.includes(client.clientId), 'client id in the database');
      const body = client.details.key.split('\n').slice(1, -2).join('');
      assert.ok(body.length > 40 && !dump.includes(body.slice(0, 40)), 'private key in the database');
    }
    const row = await t.store.prisma.clientEnrollment.findFirstOrThrow({ where: { orgId } });
    assert.match(row.clientIdHash, /^\$argon2id\$/);
  });

  test('no or an invalid token is 401 with WWW-Authenticate, a role short is 403, another tenant sees 404', async () => {
    const orgId = await createOrg(t);
    const { id, environmentId } = await deployment(orgId);
    const body = { name: uniqueName('c'), topics };
    for (const headers of [{}, { authorization: 'Bearer not.a.token' }, { authorization: 'Bearer lkr_nope' }] as Array<Record<string, string>>) {
      const res = await enrol(headers, body, `?resource_id=${id}`);
      assert.equal(res.statusCode, 401, res.body);
      assert.ok(res.headers['www-authenticate']);
      assert.equal(res.json().message, 'failure');
      assert.equal((await leave(headers, { name: 'x' }, `?resource_id=${id}`)).statusCode, 401);
    }
    const reader = await accessToken(orgId, [{ role: 'DeveloperRead', scope: { type: 'environment', id: environmentId } }]);
    const forbidden = await enrol(bearer(reader), body);
    assert.equal(forbidden.statusCode, 403, forbidden.body);
    assert.equal(forbidden.json().message, 'failure');

    // DeveloperManage on the deployment may enrol and leave, not issue server certificates.
    const developer = await accessToken(orgId, [{ role: 'DeveloperManage', scope: { type: 'resource', id } }]);
    const ok = await enrol(bearer(developer), body);
    assert.equal(ok.statusCode, 200, ok.body);
    const cert = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/resources/${id}/server-certificates`,
      headers: bearer(developer),
      payload: { dns_names: ['kx.example.com'] },
    });
    assert.equal(cert.statusCode, 403);

    const otherOrg = await createOrg(t);
    await deployment(otherOrg);
    const stranger = await accessToken(otherOrg, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const foreign = await enrol(bearer(stranger), { name: uniqueName('c'), topics }, `?resource_id=${id}`);
    assert.equal(foreign.statusCode, 404, foreign.body);
    assert.equal(foreign.json().message, 'failure');
    assert.equal((await leave(bearer(stranger), { name: body.name }, `?resource_id=${id}`)).statusCode, 404);
    assert.equal((await leave(bearer(stranger), { name: body.name })).statusCode, 404);
    const list = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${id}/clients`, headers: bearer(stranger) });
    assert.equal(list.statusCode, 404);
    assert.equal(await t.store.prisma.clientEnrollment.count({ where: { resourceId: id } }), 1);
  });

  test('who is enrolled is a directory (issue 9 item 17): a Confluent role on the deployment reads it, a Verifier or a role elsewhere gets 403', async () => {
    const orgId = await createOrg(t);
    const { id, environmentId } = await deployment(orgId);
    const name = uniqueName('c');
    assert.equal((await enrol(t.root, { name, topics }, `?resource_id=${id}`)).statusCode, 200);
    const read = (headers: Record<string, string>) =>
      Promise.all([
        t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${id}/clients`, headers }),
        t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${id}/clients/${name}`, headers }),
      ]);
    const reader = await accessToken(orgId, [{ role: 'DeveloperRead', scope: { type: 'environment', id: environmentId } }]);
    const [list, one] = await read(bearer(reader));
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(
      list.json().data.map((c: { name: string }) => c.name),
      [name],
    );
    assert.equal(one.statusCode, 200, one.body);
    const elsewhere = await createAsRoot(t, `/v1/orgs/${orgId}/environments`, { display_name: uniqueName('env') });
    const verifier = await accessToken(orgId, [{ role: 'Verifier', scope: { type: 'organization' } }]);
    const otherReader = await accessToken(orgId, [{ role: 'DeveloperRead', scope: { type: 'environment', id: elsewhere.id } }]);
    for (const token of [verifier, otherReader]) {
      for (const res of await read(bearer(token))) {
        assert.equal(res.statusCode, 403, res.body);
        assert.doesNotMatch(res.body, new RegExp(name));
      }
    }
  });

  test('details: an unknown client id is 404 without echoing it; failures per address are limited with 429', async () => {
    const limited = await startTestApp({
      store: t.store,
      env: { LATCHKEY_CLIENT_DETAILS_FAILURES_PER_ADDRESS_PER_MINUTE: '3', LATCHKEY_RATE_LIMITED_DELAY_MS: '0' },
    });
    try {
      const orgId = await createOrg(t);
      const { id } = await deployment(orgId);
      const res = await enrol(t.root, { name: uniqueName('c'), topics }, `?resource_id=${id}`);
      const clientId = res.json().url;
      const unknown = 'ab'.repeat(16);
      for (const guess of [unknown, 'short', unknown.toUpperCase()]) {
        const miss = await limited.inject({ method: 'GET', url: `/informationservice/details/${guess}` });
        assert.equal(miss.statusCode, 404);
        assert.deepEqual(Object.keys(miss.json()), ['message', 'detail']);
        assert.ok(!miss.body.includes(guess));
      }
      const blocked = await limited.inject({ method: 'GET', url: `/informationservice/details/${clientId}` });
      assert.equal(blocked.statusCode, 429);
      assert.ok(blocked.headers['retry-after']);
      assert.equal(blocked.json().message, 'failure');
      assert.ok(!limited.logs.some((line) => line.includes(unknown)));
    } finally {
      await limited.close();
    }
  });
});
