import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { type MetricsServer, startMetricsServer } from '../../../src/metrics.js';
import { startTestApp, type TestApp, uniqueName } from '../../helpers/app.js';
import { createClusterKey, pulsarSetup, verifyCode } from '../../helpers/cluster-keys.js';
import { sample } from '../../helpers/metrics.js';
import { createAsRoot, createCluster, createOrg } from '../../helpers/principals.js';

const FAMILIES = [
  ['http_requests_total', 'counter'],
  ['http_request_duration_seconds', 'histogram'],
  ['latchkey_verifications_total', 'counter'],
  ['latchkey_verify_cache_hits_total', 'counter'],
  ['latchkey_verify_cache_misses_total', 'counter'],
  ['latchkey_hash_queue_depth', 'gauge'],
  ['latchkey_invalidation_lag_seconds', 'histogram'],
  ['latchkey_store_up', 'gauge'],
  ['process_resident_memory_bytes', 'gauge'],
  ['nodejs_eventloop_lag_seconds', 'gauge'],
  ['nodejs_gc_duration_seconds', 'histogram'],
] as const;

describe('Prometheus metrics on LATCHKEY_METRICS_PORT', () => {
  let t: TestApp;
  let server: MetricsServer;
  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  before(async () => {
    t = await startTestApp({ env: { LATCHKEY_METRICS_PORT: '0' } });
    assert.ok(t.app.metrics);
    server = await startMetricsServer(t.app.metrics, 0, '127.0.0.1');
  });
  after(async () => {
    await server.close();
    await t.close();
  });

  async function resourceKey() {
    const orgId = await createOrg(t);
    const { resourceId } = await createCluster(t, orgId);
    const owner = await createAsRoot(t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName() });
    const key = await createAsRoot(t, `/v1/orgs/${orgId}/api-keys`, { owner: owner.id, scope: { type: 'resource', resource_id: resourceId } });
    return { orgId, resourceId, id: key.id as string, secret: key.secret as string };
  }

  test('every family is declared from start-up, before any traffic, and the store is up', async () => {
    const fresh = await startTestApp({ env: { LATCHKEY_METRICS_PORT: '0' }, store: t.store });
    try {
      const text = await fresh.app.metrics!.render();
      for (const [name, type] of FAMILIES) {
        assert.match(text, new RegExp(`^# HELP ${name} .+$`, 'm'), `${name} has HELP`);
        assert.match(text, new RegExp(`^# TYPE ${name} ${type}$`, 'm'), `${name} is a ${type}`);
      }
      assert.equal(sample(text, 'latchkey_store_up'), 1);
      assert.equal(sample(text, 'latchkey_hash_queue_depth'), 0);
      assert.equal(sample(text, 'latchkey_verify_cache_hits_total'), 0);
      // Every code of every family starts at zero, so a rate over it exists before the first answer.
      const codes = {
        api_key: ['VALID', 'INVALID', 'EXPIRED', 'REVOKED', 'WRONG_RESOURCE'],
        cluster_key: ['VALID', 'INVALID', 'EXPIRED', 'REVOKED', 'WRONG_RESOURCE'],
        access_key: ['VALID', 'INVALID', 'WRONG_RESOURCE', 'FORBIDDEN', 'KEY_FILTER_REQUIRED', 'KEY_FILTER_UNAVAILABLE'],
      };
      for (const [kind, list] of Object.entries(codes)) {
        for (const code of list) assert.equal(sample(text, `latchkey_verifications_total{kind="${kind}",code="${code}"}`), 0, `${kind} ${code} declared`);
      }
      assert.doesNotMatch(text, /^latchkey_process_/m, 'default metrics are unprefixed');
    } finally {
      await fresh.close();
    }
  });

  test('requests are counted by method, route template and status; the duration histogram by route', async () => {
    const orgId = await createOrg(t);
    const before = await scrape();
    const series = `http_requests_total{method="GET",route="/v1/orgs/:org_id",status="200"}`;
    const missing = `http_requests_total{method="GET",route="/v1/orgs/:org_id",status="404"}`;
    for (let i = 0; i < 3; i++) assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers: t.root })).statusCode, 200);
    assert.equal((await t.inject({ method: 'GET', url: '/v1/orgs/org-doesnotexist', headers: t.root })).statusCode, 404);
    const probe = `/wp-admin/${uniqueName('probe')}`;
    assert.equal((await t.inject({ method: 'GET', url: probe })).statusCode, 404);

    const text = await scrape();
    assert.equal(sample(text, series)! - (sample(before, series) ?? 0), 3);
    assert.equal(sample(text, missing)! - (sample(before, missing) ?? 0), 1);
    const unmatched = `http_requests_total{method="GET",route="unmatched",status="404"}`;
    assert.equal(sample(text, unmatched)! - (sample(before, unmatched) ?? 0), 1);
    const count = 'http_request_duration_seconds_count{route="/v1/orgs/:org_id"}';
    assert.equal(sample(text, count)! - (sample(before, count) ?? 0), 4);
    assert.ok(sample(text, 'http_request_duration_seconds_bucket{le="0.0005",route="/v1/orgs/:org_id"}') !== undefined, 'sub-millisecond bucket');
    assert.ok(sample(text, 'http_request_duration_seconds_bucket{le="1",route="/v1/orgs/:org_id"}') !== undefined, 'one-second bucket');
    // Labels are templates: no organization id and no probed path ever becomes a series.
    assert.ok(!text.includes(orgId), 'no raw id in any label');
    assert.ok(!text.includes('org-doesnotexist'));
    assert.ok(!text.includes('wp-admin'));
  });

  test('verifications are counted by kind and the answer code; the cache counts hits and misses', async () => {
    const key = await resourceKey();
    const before = await scrape();
    const verify = (secret: string, resource_id = key.resourceId) =>
      t.inject({ method: 'POST', url: '/v1/verify/api-key', headers: t.root, payload: { key: key.id, secret, resource_id } });
    for (let i = 0; i < 3; i++) assert.equal((await verify(key.secret)).json().code, 'VALID');
    assert.equal((await verify(key.secret, 'lkc-elsewhere')).json().code, 'WRONG_RESOURCE');
    assert.equal((await verify('lks_not-a-secret')).json().code, 'INVALID');
    // A 422 is not a verification answer and is not counted.
    assert.equal((await t.inject({ method: 'POST', url: '/v1/verify/api-key', headers: t.root, payload: { key: key.id } })).statusCode, 422);

    const text = await scrape();
    const delta = (series: string) => (sample(text, series) ?? 0) - (sample(before, series) ?? 0);
    assert.equal(delta('latchkey_verifications_total{kind="api_key",code="VALID"}'), 3);
    assert.equal(delta('latchkey_verifications_total{kind="api_key",code="WRONG_RESOURCE"}'), 1);
    assert.equal(delta('latchkey_verifications_total{kind="api_key",code="INVALID"}'), 1);
    assert.equal(delta('latchkey_verifications_total{kind="api_key",code="REVOKED"}'), 0);
    // The first check of the secret missed and ran argon2; the three after it were cache hits.
    assert.equal(delta('latchkey_verify_cache_misses_total'), 1);
    assert.equal(delta('latchkey_verify_cache_hits_total'), 3);
    assert.equal(delta('http_requests_total{method="POST",route="/v1/verify/api-key",status="200"}'), 5);
    assert.ok(!text.includes(key.id));
  });

  test('cluster-key and access-key verifications are counted by kind and code, and their caches count hits and misses', async () => {
    const orgId = await createOrg(t);
    const pulsar = await pulsarSetup(t, orgId);
    const clusterKey = await createClusterKey(t, orgId, { owner: pulsar.ownerId, cluster_id: pulsar.clusterId });
    const { resourceId: fluvioId } = await createCluster(t, orgId, 'fluvio_cluster');
    const accessKey = (await createAsRoot(t, `/v1/orgs/${orgId}/resources/${fluvioId}/access-keys`, { name: 'metrics', topic: 'a', consume: true }))
      .key as string;
    const before = await scrape();

    assert.equal(await verifyCode(t, clusterKey.token, pulsar.clusterId), 'VALID');
    assert.equal(await verifyCode(t, clusterKey.token, pulsar.clusterId), 'VALID');
    assert.equal(await verifyCode(t, clusterKey.token, 'pls-elsewhere'), 'WRONG_RESOURCE');
    const verifyAccess = async (operation: string) =>
      (
        await t.inject({ method: 'POST', url: '/v1/verify/access-key', headers: t.root, payload: { access_key: accessKey, cluster_id: fluvioId, operation } })
      ).json().code;
    assert.equal(await verifyAccess('consume'), 'VALID');
    assert.equal(await verifyAccess('consume'), 'VALID');
    assert.equal(await verifyAccess('produce'), 'FORBIDDEN');

    const text = await scrape();
    const delta = (series: string) => (sample(text, series) ?? 0) - (sample(before, series) ?? 0);
    assert.equal(delta('latchkey_verifications_total{kind="cluster_key",code="VALID"}'), 2);
    assert.equal(delta('latchkey_verifications_total{kind="cluster_key",code="WRONG_RESOURCE"}'), 1);
    assert.equal(delta('latchkey_verifications_total{kind="access_key",code="VALID"}'), 2);
    assert.equal(delta('latchkey_verifications_total{kind="access_key",code="FORBIDDEN"}'), 1);
    assert.equal(delta('latchkey_verifications_total{kind="api_key",code="VALID"}'), 0);
    // Each credential missed once (one signature check, one argon2 run); every later answer was a hit.
    assert.equal(delta('latchkey_verify_cache_misses_total'), 2);
    assert.equal(delta('latchkey_verify_cache_hits_total'), 4);
    assert.ok(!text.includes(accessKey) && !text.includes(clusterKey.token));
  });

  test('a revocation heard through NOTIFY is measured as invalidation lag', async () => {
    const key = await resourceKey();
    const before = sample(await scrape(), 'latchkey_invalidation_lag_seconds_count') ?? 0;
    assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${key.orgId}/api-keys/${key.id}`, headers: t.root })).statusCode, 204);
    let after = before;
    for (let i = 0; i < 50 && after === before; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = sample(await scrape(), 'latchkey_invalidation_lag_seconds_count') ?? 0;
    }
    assert.ok(after > before, 'a lag sample was recorded');
    const text = await scrape();
    assert.ok((sample(text, 'latchkey_invalidation_lag_seconds_sum') ?? Infinity) < 60, 'lag is a plausible number of seconds');
  });

  test('metrics are not served on the main port, and the metrics port serves nothing else', async () => {
    const main = await t.inject({ method: 'GET', url: '/metrics' });
    assert.equal(main.statusCode, 404);
    assert.doesNotMatch(main.body, /http_requests_total/);
    const other = await fetch(`http://127.0.0.1:${server.port}/v1/orgs`);
    assert.equal(other.status, 404);
    await other.text();
  });

  test('without LATCHKEY_METRICS_PORT the app keeps no metrics', async () => {
    const plain = await startTestApp({ store: t.store });
    try {
      assert.equal(plain.app.metrics, null);
    } finally {
      await plain.close();
    }
  });

  test('the Grafana dashboard queries only series this service exports', async () => {
    const dashboard = JSON.parse(await readFile(new URL('../../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const titles = dashboard.panels.map((p) => p.title);
    for (const wanted of ['Request rate', 'Error rate', 'Verify latency p99', 'Verify cache hit ratio', 'Invalidation lag p99', 'Hash queue depth']) {
      assert.ok(titles.includes(wanted), `panel ${wanted}`);
    }
    const text = await t.app.metrics!.render();
    const declared = new Set(
      [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) =>
        type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!],
      ),
    );
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets) {
        for (const [series] of expr.matchAll(/\b(?:http|latchkey)_[a-z_]+\b/g)) assert.ok(declared.has(series), `${panel.title}: ${series} is exported`);
      }
    }
  });
});
