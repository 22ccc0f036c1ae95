import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp, uniqueName } from '../../helpers/app.js';

describe('organizations: audit trail', () => {
  const t = suiteApp();

  const createOrg = (body: unknown) => t.inject({ method: 'POST', url: '/v1/orgs', headers: t.root, payload: body as object });

  test("a deleted organization's audit trail stays readable by root, and still ends with the delete", async () => {
    const org = (await createOrg({ name: uniqueName('gone') })).json();
    assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${org.id}`, headers: t.root })).statusCode, 204);
    const audit = await t.inject({ method: 'GET', url: `/v1/orgs/${org.id}/audit-events`, headers: t.root });
    assert.equal(audit.statusCode, 200, audit.body);
    assert.deepEqual(
      audit.json().data.map((e: { action: string }) => e.action),
      ['organization.create', 'organization.delete'],
    );
    const never = await t.inject({ method: 'GET', url: '/v1/orgs/org-neverexist/audit-events', headers: t.root });
    assert.equal(never.statusCode, 404);
  });
});
