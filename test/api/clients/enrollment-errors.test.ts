import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { clientFixtures, file, openssl } from '../../helpers/clients.js';
import { createOrg } from '../../helpers/principals.js';

describe('kdb Insights client enrollment: errors', () => {
  const t = suiteApp(() => ({ env: { LATCHKEY_CLIENT_DETAILS_FAILURES_PER_ADDRESS_PER_MINUTE: '1000', LATCHKEY_RATE_LIMITED_DELAY_MS: '0' } }));
  const { deployment, accessToken, enrol, details, topics, enrolled } = clientFixtures(() => t);

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  const crlOf = async (orgId: string, resourceId: string) => t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${resourceId}/crl.pem` });

  test('a name already enrolled is 409; ?force=true re-enrols with a new client id and revokes the old certificate', async () => {
    const orgId = await createOrg(t);
    const { id } = await deployment(orgId);
    const name = uniqueName('c');
    const first = await enrolled(t.root, name, `?resource_id=${id}`);
    const duplicate = await enrol(t.root, { name, topics }, `?resource_id=${id}`);
    assert.equal(duplicate.statusCode, 409);
    assert.deepEqual(Object.keys(duplicate.json()), ['message', 'detail']);
    assert.equal(duplicate.json().message, 'failure');
    assert.match(duplicate.json().detail, /already enrolled.*force=true/);

    const second = await enrolled(t.root, name, `?resource_id=${id}&force=true`);
    assert.notEqual(second.clientId, first.clientId);
    assert.equal((await details(first.clientId)).statusCode, 404);
    const crl = (await crlOf(orgId, id)).body;
    const check = openssl(
      'verify',
      '-crl_check',
      '-CAfile',
      file('ca.pem', first.details.ca),
      '-CRLfile',
      file('crl.pem', crl),
      file('cert.pem', first.details.cert),
    );
    assert.match(check.stdout + check.stderr, /certificate revoked/);
    assert.match(
      openssl('verify', '-crl_check', '-CAfile', file('ca.pem', second.details.ca), '-CRLfile', file('crl.pem', crl), file('cert.pem', second.details.cert))
        .stdout,
      /OK/,
    );
  });

  test('bad input is an Insights-shaped failure naming the problem, never 415, and changes nothing', async () => {
    const orgId = await createOrg(t);
    const { id } = await deployment(orgId, { sequencer_topic: 'sequenced' });
    const q = `?resource_id=${id}`;
    const cases: Array<[object | string, number, RegExp]> = [
      [{ name: 'c1', topics: { insert: 'data', query: 'requests' } }, 422, /topics\.insert.*sequencer topic "sequenced"/],
      [{ name: '-bad', topics: { insert: 'sequenced', query: 'q' } }, 422, /name/],
      [{ name: 'x'.repeat(65), topics: { insert: 'sequenced', query: 'q' } }, 422, /name/],
      [{ name: 'c\u0000', topics: { insert: 'sequenced', query: 'q' } }, 422, /name/],
      [{ name: 'c2', topics: { insert: 'sequenced' } }, 422, /topics\.query/],
      [{ name: 'c3', topics: { insert: 'sequenced', query: 'q' }, colour: 'red' }, 422, /colour/],
      ['{"name": ', 400, /JSON/],
      ['', 400, /empty/],
    ];
    for (const [body, status, detail] of cases) {
      const res = await enrol(t.root, body, q);
      assert.equal(res.statusCode, status, `${JSON.stringify(body)}: ${res.body}`);
      assert.deepEqual(Object.keys(res.json()), ['message', 'detail']);
      assert.equal(res.json().message, 'failure');
      assert.match(res.json().detail, detail);
    }
    for (const contentType of ['application/json', 'text/plain', 'application/xml']) {
      const res = await t.inject({
        method: 'POST',
        url: `/clientcontroller/enrol${q}`,
        headers: { ...t.root, 'content-type': contentType },
        payload: JSON.stringify({ name: uniqueName('ct'), topics: { insert: 'sequenced', query: 'q' } }),
      });
      assert.equal(res.statusCode, 200, `${contentType}: ${res.body}`);
    }
    const big = await enrol(t.root, { name: 'big', topics: { insert: 'sequenced', query: 'q' }, csr: 'A'.repeat(70_000) }, q);
    assert.equal(big.statusCode, 413);
    assert.equal(big.json().message, 'failure');
    const badQuery = await enrol(t.root, { name: 'q1', topics: { insert: 'sequenced', query: 'q' } }, '?resource_id=lkc-123');
    assert.equal(badQuery.statusCode, 422);
    assert.match(badQuery.json().detail, /resource_id/);
    assert.equal(await t.store.prisma.clientEnrollment.count({ where: { resourceId: id } }), 3);
    const unknownRoute = await t.inject({ method: 'GET', url: '/clientcontroller/nothing' });
    assert.equal(unknownRoute.statusCode, 404);
    assert.equal(unknownRoute.json().message, 'failure');
  });

  test('without ?resource_id the organization needs exactly one deployment; root must name it', async () => {
    const orgId = await createOrg(t);
    const admin = await accessToken(orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const none = await enrol(bearer(admin), { name: 'c', topics });
    assert.equal(none.statusCode, 400);
    assert.match(none.json().detail, /resource_id/);
    await deployment(orgId);
    assert.equal((await enrol(bearer(admin), { name: 'c', topics })).statusCode, 200);
    await deployment(orgId);
    const several = await enrol(bearer(admin), { name: 'd', topics });
    assert.equal(several.statusCode, 400);
    assert.match(several.json().detail, /resource_id/);
    const root = await enrol(t.root, { name: 'e', topics });
    assert.equal(root.statusCode, 400);
    assert.match(root.json().detail, /resource_id/);
  });
});
