import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TEST_DATABASE_URL, uniqueName } from '../helpers/app.js';
import { kill9, type ServerProcess, startServer, TEST_MASTER_KEY } from '../helpers/server-process.js';

// kill -9 in the middle of a write burst, on the store of this pass (a data directory on the
// embedded pass, the test database on the Postgres pass): everything the process acknowledged
// survives; acknowledged creates verify, acknowledged deletes stay deleted.

const store = TEST_DATABASE_URL ? 'Postgres' : 'embedded store';

describe(`kill -9 history check (${store})`, () => {
  const servers: ServerProcess[] = [];
  let dataDir: string | undefined;
  after(async () => {
    for (const server of servers) await kill9(server);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('acknowledged creates verify and acknowledged deletes stay deleted after kill -9 and restart', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'latchkey-kill9-'));
    const env: Record<string, string> = TEST_DATABASE_URL
      ? { DATABASE_URL: TEST_DATABASE_URL, LATCHKEY_MASTER_KEY: TEST_MASTER_KEY }
      : { LATCHKEY_DATA_DIR: dataDir };
    const first = await startServer(env);
    servers.push(first);

    const org = await first.request('POST', '/v1/orgs', { name: uniqueName('org') });
    assert.equal(org.status, 201);
    const orgId = org.json.id as string;
    const envRes = await first.request('POST', `/v1/orgs/${orgId}/environments`, { display_name: 'e' });
    const resource = await first.request('POST', `/v1/orgs/${orgId}/resources`, { kind: 'kafka_cluster', display_name: 'c', environment_id: envRes.json.id });
    const owner = await first.request('POST', `/v1/orgs/${orgId}/service-accounts`, { display_name: 'o' });
    const resourceId = resource.json.id as string;

    const created: Array<{ id: string; secret: string }> = [];
    const deleted: Array<{ id: string; secret: string }> = [];
    const create = async () => {
      const res = await first.request('POST', `/v1/orgs/${orgId}/api-keys`, { owner: owner.json.id, scope: { type: 'resource', resource_id: resourceId } });
      if (res.status === 201) created.push({ id: res.json.id, secret: res.json.secret });
    };
    for (let i = 0; i < 8; i++) await create();
    for (const key of created.splice(0, 3)) {
      const res = await first.request('DELETE', `/v1/orgs/${orgId}/api-keys/${key.id}`);
      assert.equal(res.status, 204);
      deleted.push(key);
    }
    // A burst still in flight when the process dies: whatever was acknowledged must survive.
    const burst = Array.from({ length: 10 }, () => create().catch(() => undefined));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await kill9(first);
    await Promise.all(burst);
    assert.ok(created.length >= 5);

    const second = await startServer(env);
    servers.push(second);
    for (const key of created) {
      const res = await second.request('POST', '/v1/verify/api-key', { key: key.id, secret: key.secret, resource_id: resourceId });
      assert.equal(res.json.code, 'VALID', `acknowledged create ${key.id}`);
    }
    for (const key of deleted) {
      const res = await second.request('POST', '/v1/verify/api-key', { key: key.id, secret: key.secret, resource_id: resourceId });
      assert.notEqual(res.json.code, 'VALID', `acknowledged delete ${key.id}`);
      // DELETE revokes: the key stays readable as revoked.
      assert.equal((await second.request('GET', `/v1/orgs/${orgId}/api-keys/${key.id}`)).json.status, 'revoked');
    }
  });
});
