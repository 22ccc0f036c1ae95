import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { suiteApp, type TestApp, uniqueName } from '../helpers/app.js';
import { createAsRoot, createCluster, createOrg, credentialFor } from '../helpers/principals.js';

/** Every row of every table of ours, as text. */
async function databaseText(t: TestApp): Promise<string> {
  const tables = await t.store.prisma.$queryRawUnsafe<Array<{ table_name: string }>>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
  );
  const dumps = await Promise.all(
    tables.map((row) => t.store.prisma.$queryRawUnsafe<Array<{ row: string }>>(`SELECT row_to_json(x)::text AS row FROM "${row.table_name}" x`)),
  );
  return dumps
    .flat()
    .map((d) => d.row)
    .join('\n');
}

describe('secrets are shown once and stored nowhere', () => {
  const t = suiteApp(() => ({ env: { LOG_LEVEL: 'trace' } }));

  test('issued secrets never reach the logs, the audit trail or the database', async () => {
    const secrets: string[] = [t.rootToken];
    const orgId = await createOrg(t);
    const { resourceId, environmentId } = await createCluster(t, orgId);
    const admin = await credentialFor(t, orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    secrets.push(admin.secret);
    const owner = await createAsRoot(t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName() });

    const resourceKey = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/api-keys`,
      headers: { authorization: admin.authorization },
      payload: { owner: owner.id, scope: { type: 'resource', resource_id: resourceId } },
    });
    const flinkKey = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/api-keys`,
      headers: { authorization: admin.authorization },
      payload: { owner: owner.id, scope: { type: 'flink', environment_id: environmentId, cloud: 'aws', region: 'us-east-2' } },
    });
    secrets.push(resourceKey.json().secret, flinkKey.json().secret);
    const rotated = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/api-keys/${resourceKey.json().id}/rotate`,
      headers: t.root,
      payload: { grace_period_seconds: 60 },
    });
    secrets.push(rotated.json().secret);

    const token = await t.inject({
      method: 'POST',
      url: '/oauth2/token',
      payload: { grant_type: 'client_credentials', client_id: admin.keyId, client_secret: admin.secret },
    });
    const accessToken: string = token.json().access_token;
    secrets.push(accessToken);
    await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers: { authorization: `Bearer ${accessToken}` } });

    for (const secret of [resourceKey.json().secret, rotated.json().secret]) {
      await t.inject({ method: 'POST', url: '/v1/verify/api-key', headers: t.root, payload: { key: resourceKey.json().id, secret, resource_id: resourceId } });
    }
    // Failures are logged too; the presented (wrong) secret must not be.
    await t.inject({
      method: 'POST',
      url: '/v1/verify/api-key',
      headers: t.root,
      payload: { key: resourceKey.json().id, secret: `lks_${'x'.repeat(49)}`, resource_id: resourceId },
    });
    await t.inject({
      method: 'GET',
      url: `/v1/orgs/${orgId}`,
      headers: { authorization: `Basic ${Buffer.from(`${admin.keyId}:wrong-${admin.secret}`).toString('base64')}` },
    });

    for (const secret of secrets) assert.ok(secret && secret.length >= 32, 'every secret was issued');
    assert.ok(t.logs.length > 10, 'the app logged requests');
    const logs = t.logs.join('\n');
    const audit = (await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/audit-events?page_size=100`, headers: t.root })).body;
    const database = await databaseText(t);
    assert.ok(database.includes(resourceKey.json().id), 'the database dump covers the keys');
    for (const secret of secrets) {
      assert.ok(!logs.includes(secret), 'logs hold no secret');
      assert.ok(!audit.includes(secret), 'audit events hold no secret');
      assert.ok(!database.includes(secret), 'the database holds no secret');
    }
    assert.ok(!logs.includes('x'.repeat(49)), 'presented secrets are not logged');
    assert.ok(!logs.includes(Buffer.from(`${admin.keyId}:wrong-${admin.secret}`).toString('base64')), 'Basic credentials are not logged');
  });
});
