import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp, uniqueName } from '../../helpers/app.js';

describe('organizations', () => {
  const t = suiteApp();

  const createOrg = (body: unknown) => t.inject({ method: 'POST', url: '/v1/orgs', headers: t.root, payload: body as object });

  test('root creates an organization and it is audited', async () => {
    const name = uniqueName('acme');
    const res = await createOrg({ name, display_name: 'Acme Corp' });
    assert.equal(res.statusCode, 201);
    const org = res.json();
    assert.match(org.id, /^org-[a-z0-9]{10}$/);
    assert.equal(org.name, name);
    assert.equal(org.display_name, 'Acme Corp');
    assert.deepEqual(org.settings, {});

    const audit = await t.inject({ method: 'GET', url: `/v1/orgs/${org.id}/audit-events?action=organization.create`, headers: t.root });
    assert.equal(audit.statusCode, 200);
    assert.equal(audit.json().data.length, 1);
    assert.equal(audit.json().data[0].actor, 'root');
    assert.equal(audit.json().data[0].request_id, res.headers['x-request-id']);
  });

  test('pages through organizations with keyset tokens', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await createOrg({ name: uniqueName('page') })).statusCode, 201);
    const seen = new Set<string>();
    let token: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/orgs?page_size=2${token ? `&page_token=${token}` : ''}`;
      const res = await t.inject({ method: 'GET', url, headers: t.root });
      assert.equal(res.statusCode, 200);
      for (const org of res.json().data) {
        assert.ok(!seen.has(org.id), 'no organization appears twice');
        seen.add(org.id);
      }
      token = res.json().next_page_token;
      pages++;
    } while (token && pages < 1000);
    assert.ok(seen.size >= 3);
    const bad = await t.inject({ method: 'GET', url: '/v1/orgs?page_token=garbage', headers: t.root });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().errors[0].path, 'page_token');
  });

  test('concurrent deletes of one organization delete it once: one 204 and one audit event, the others 404', async () => {
    const org = (await createOrg({ name: uniqueName('race') })).json();
    const results = await Promise.all(Array.from({ length: 4 }, () => t.inject({ method: 'DELETE', url: `/v1/orgs/${org.id}`, headers: t.root })));
    const statuses = results.map((r) => r.statusCode).sort();
    assert.deepEqual(statuses, [204, 404, 404, 404], results.map((r) => r.body).join(' | '));
    assert.equal(await t.store.prisma.auditEvent.count({ where: { orgId: org.id, action: 'organization.delete' } }), 1);
  });

  test('patch merges settings: named keys change, null removes a key, others stay', async () => {
    const org = (await createOrg({ name: uniqueName('merge'), settings: { cloud_key_quota: 3, key_quota: 50 } })).json();
    const patch = (settings: object) => t.inject({ method: 'PATCH', url: `/v1/orgs/${org.id}`, headers: t.root, payload: { settings } });
    const first = await patch({ recent_use_hours: 2 });
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(first.json().settings, { cloud_key_quota: 3, key_quota: 50, recent_use_hours: 2 });
    const second = await patch({ key_quota: null, cloud_key_quota: 4 });
    assert.equal(second.statusCode, 200, second.body);
    assert.deepEqual(second.json().settings, { cloud_key_quota: 4, recent_use_hours: 2 });
    const got = await t.inject({ method: 'GET', url: `/v1/orgs/${org.id}`, headers: t.root });
    assert.deepEqual(got.json().settings, { cloud_key_quota: 4, recent_use_hours: 2 });
    const bad = await patch({ key_quota: 'many' });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().errors[0].path, 'settings.key_quota');
  });

  test('patch updates display name and settings; unknown settings are 422', async () => {
    const org = (await createOrg({ name: uniqueName() })).json();
    const res = await t.inject({
      method: 'PATCH',
      url: `/v1/orgs/${org.id}`,
      headers: t.root,
      payload: { display_name: 'Renamed', settings: { cloud_key_quota: 3 } },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().display_name, 'Renamed');
    assert.deepEqual(res.json().settings, { cloud_key_quota: 3 });
    const bad = await t.inject({ method: 'PATCH', url: `/v1/orgs/${org.id}`, headers: t.root, payload: { settings: { colour: 'red' } } });
    assert.equal(bad.statusCode, 422);
    assert.equal(bad.json().errors[0].path, 'settings.colour');
  });

  test('delete removes an empty organization; a missing one is 404', async () => {
    const org = (await createOrg({ name: uniqueName() })).json();
    const res = await t.inject({ method: 'DELETE', url: `/v1/orgs/${org.id}`, headers: t.root });
    assert.equal(res.statusCode, 204);
    const again = await t.inject({ method: 'GET', url: `/v1/orgs/${org.id}`, headers: t.root });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().code, 'not_found');
  });
});
