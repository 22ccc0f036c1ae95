import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { uniqueName } from '../helpers/app.js';
import { type CliHarness, startCliHarness } from '../helpers/cli.js';
import { createClusterKey, pulsarSetup } from '../helpers/cluster-keys.js';
import { createAsRoot, createCluster, createOrg } from '../helpers/principals.js';

describe('latchkey verify batch', () => {
  let h: CliHarness;
  let root: Record<string, string>;
  let items: Array<Record<string, unknown>>;
  before(async () => {
    h = await startCliHarness();
    root = { LATCHKEY_URL: h.url, LATCHKEY_TOKEN: h.t.rootToken };
    const orgId = await createOrg(h.t);
    const { resourceId } = await createCluster(h.t, orgId);
    const owner = await createAsRoot(h.t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName() });
    const apiKey = await createAsRoot(h.t, `/v1/orgs/${orgId}/api-keys`, { owner: owner.id, scope: { type: 'resource', resource_id: resourceId } });
    const pulsar = await pulsarSetup(h.t, orgId);
    const clusterKey = await createClusterKey(h.t, orgId, { owner: pulsar.ownerId, cluster_id: pulsar.clusterId });
    items = [
      { kind: 'api_key', key: apiKey.id, secret: apiKey.secret, resource_id: resourceId },
      { kind: 'cluster_key', token: clusterKey.token, cluster_id: 'pc-elsewhere' },
    ];
  });
  after(() => h.close());

  test('--file FILE sends the items and prints the API answer; exit 0 whatever the codes', async () => {
    const file = join(h.home, 'items.json');
    await writeFile(file, JSON.stringify(items));
    const result = await h.latchkey(['verify', 'batch', '--file', file, '-o', 'json'], root);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      JSON.parse(result.stdout).results.map((r: { code: string }) => r.code),
      ['VALID', 'WRONG_RESOURCE'],
    );

    // The default table: one row per item, in order.
    const table = await h.latchkey(['verify', 'batch', '--file', file], root);
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^VALID\s+CODE/);
    assert.deepEqual(
      lines.slice(1).map((line) => line.split(/\s+/).slice(0, 2)),
      [
        ['true', 'VALID'],
        ['false', 'WRONG_RESOURCE'],
      ],
    );
  });

  test('--file - reads {"items":[…]} from standard input', async () => {
    const result = await h.latchkey(['verify', 'batch', '--file', '-', '-o', 'json'], root, JSON.stringify({ items }));
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      JSON.parse(result.stdout).results.map((r: { code: string }) => r.code),
      ['VALID', 'WRONG_RESOURCE'],
    );
  });

  test('an invalid item is the API’s 422 (exit 1, the field on stderr); an unreadable or non-JSON file is a usage error (exit 2)', async () => {
    const invalid = await h.latchkey(['verify', 'batch', '--file', '-'], root, JSON.stringify([items[0], { kind: 'password' }]));
    assert.equal(invalid.code, 1, invalid.stderr);
    assert.equal(invalid.stdout, '');
    assert.match(invalid.stderr, /items\.1\.kind/);
    assert.match(invalid.stderr, /HTTP 422/);

    const missing = await h.latchkey(['verify', 'batch', '--file', join(h.home, 'absent.json')], root);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read --file/);
    const notJson = await h.latchkey(['verify', 'batch', '--file', '-'], root, 'kind=api_key');
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, /is not JSON/);
    const notItems = await h.latchkey(['verify', 'batch', '--file', '-'], root, '{"item":[]}');
    assert.equal(notItems.code, 2);
    assert.match(notItems.stderr, /JSON array of items/);
    assert.equal((await h.latchkey(['verify', 'batch'], root)).code, 2, '--file is required');
  });
});
