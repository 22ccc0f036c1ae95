import assert from 'node:assert/strict';
import { chmod, readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { uniqueName } from '../helpers/app.js';
import { type CliHarness, startCliHarness } from '../helpers/cli.js';

describe('latchkey CLI', () => {
  let h: CliHarness;
  let root: Record<string, string>;
  before(async () => {
    h = await startCliHarness();
    root = h.root;
  });
  after(() => h.close());

  async function newOrg(): Promise<string> {
    return (await h.json(['org', 'create', uniqueName('cli')])).id as string;
  }

  test('org, environment, resource and service-account commands create, list, describe, update and delete', async () => {
    const name = uniqueName('cli');
    const org = await h.json(['org', 'create', name, '--display-name', 'CLI Corp']);
    assert.match(org.id, /^org-/);
    assert.equal(org.display_name, 'CLI Corp');
    assert.match(await h.ok(['org', 'list', '--page-size', '100']), /^ID\s+NAME\s+DISPLAY_NAME/);
    assert.equal(parseYaml(await h.ok(['org', 'describe', org.id, '-o', 'yaml'])).name, name);

    const env = { ...root, LATCHKEY_ORG: org.id };
    const environment = await h.json(['environment', 'create', 'production'], env);
    assert.match(environment.id, /^env-/);
    assert.match(await h.ok(['environment', 'list'], env), new RegExp(`${environment.id}\\s+production`));
    assert.equal((await h.json(['env', 'update', environment.id, '--display-name', 'prod'], env)).display_name, 'prod');

    const resource = await h.json(
      ['resource', 'create', 'orders', '--kind', 'kafka_cluster', '--environment', environment.id, '--cloud', 'aws', '--region', 'us-east-2'],
      env,
    );
    assert.match(resource.id, /^lkc-/);
    assert.deepEqual(
      (await h.json(['resource', 'list', '--kind', 'kafka_cluster'], env)).data.map((r: { id: string }) => r.id),
      [resource.id],
    );
    assert.equal((await h.json(['resource', 'describe', resource.id], env)).region, 'us-east-2');

    const sa = await h.json(['service-account', 'create', 'orders-ci', '--description', 'CI of orders'], env);
    assert.match(sa.id, /^sa-/);
    assert.equal(sa.description, 'CI of orders');
    assert.equal((await h.json(['service-account', 'update', sa.id, '--description', 'new'], env)).description, 'new');
    assert.match(await h.ok(['service-account', 'describe', sa.id], env), /description\s+new/);
    assert.match(await h.ok(['service-account', 'list'], env), /orders-ci/);

    const deleted = await h.latchkey(['service-account', 'delete', sa.id], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, '');
    assert.match(deleted.stderr, new RegExp(`Deleted service account ${sa.id}`));
    await h.ok(['resource', 'delete', resource.id], env);
    await h.ok(['environment', 'delete', environment.id], env);
    await h.ok(['org', 'delete', org.id], env);
    const gone = await h.t.inject({ method: 'GET', url: `/v1/orgs/${org.id}`, headers: h.t.root });
    assert.equal(gone.statusCode, 404);
  });

  test('api-key create prints the secret once; describe, update, rotate, verify, role-binding, audit and delete follow', async () => {
    const orgId = await newOrg();
    const env = { ...root, LATCHKEY_ORG: orgId };
    const environment = await h.json(['environment', 'create', 'production'], env);
    const cluster = await h.json(['resource', 'create', 'orders', '--kind', 'kafka_cluster', '--environment', environment.id], env);
    const sa = await h.json(['service-account', 'create', 'orders-ci'], env);

    const created = await h.latchkey(['api-key', 'create', '--resource', cluster.id, '--service-account', sa.id, '--description', 'producer'], env);
    assert.equal(created.code, 0, created.stderr);
    const secret = /secret\s+(lks_\S+)/.exec(created.stdout)?.[1];
    const keyId = /id\s+([A-Z0-9]{16})/.exec(created.stdout)?.[1];
    assert.ok(secret && keyId, created.stdout);
    assert.match(created.stderr, /cannot show it again/);
    assert.ok(!h.t.logs.join('\n').includes(secret), 'the secret reached the service log');

    const described = await h.ok(['api-key', 'describe', keyId], env);
    assert.ok(!described.includes(secret) && !/^secret\s/m.test(described));
    assert.equal((await h.json(['api-key', 'update', keyId, '--description', 'orders producer'], env)).description, 'orders producer');
    const listed = await h.ok(['api-key', 'list', '--service-account', sa.id], env);
    assert.match(listed, new RegExp(`${keyId}\\s+resource\\s+${sa.id}\\s+resource ${cluster.id}`));

    const rotated = await h.json(['api-key', 'rotate', keyId, '--grace-period', '60'], env);
    assert.ok(rotated.secret && rotated.secret !== secret);
    assert.ok(rotated.previous_secret_expires_at);
    const verified = await h.json(['verify', 'api-key', '--key', keyId, '--resource', cluster.id], { ...env, LATCHKEY_VERIFY_SECRET: rotated.secret });
    assert.equal(verified.code, 'VALID');

    const flink = await h.json(['api-key', 'create', '--resource', `${environment.id}.aws.us-east-2`, '--service-account', sa.id], env);
    assert.deepEqual(flink.scope, { type: 'flink', environment_id: environment.id, cloud: 'aws', region: 'us-east-2' });

    const binding = await h.json(['role-binding', 'create', '--principal', sa.id, '--role', 'EnvironmentAdmin', '--environment', environment.id], env);
    assert.deepEqual(binding.scope, { type: 'environment', id: environment.id });
    assert.match(await h.ok(['role-binding', 'list', '--principal', sa.id], env), /EnvironmentAdmin\s+environment env-/);
    await h.ok(['role-binding', 'delete', binding.id], env);

    await h.ok(['api-key', 'delete', keyId], env);
    assert.equal((await h.json(['verify', 'api-key', '--key', keyId, '--secret', rotated.secret, '--resource', cluster.id], env)).code, 'REVOKED');

    const audit = await h.json(['audit', 'list', '--action', 'api_key.create'], env);
    assert.deepEqual(audit.data.map((e: { target: string }) => e.target).sort(), [keyId, flink.id].sort());
    assert.match(await h.ok(['audit', 'list', '--target', keyId], env), /api_key\.delete/);
  });

  test('-o json prints the API body unchanged, and -o yaml the same data', async () => {
    const orgId = await newOrg();
    const sa = await h.json(['service-account', 'create', 'json-check'], { ...root, LATCHKEY_ORG: orgId });
    const api = await h.t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/service-accounts/${sa.id}`, headers: h.t.root });
    const stdout = await h.ok(['service-account', 'describe', sa.id, '--org', orgId, '-o', 'json']);
    assert.equal(stdout, `${api.body}\n`);
    assert.deepEqual(parseYaml(await h.ok(['service-account', 'describe', sa.id, '--org', orgId, '-o', 'yaml'])), api.json());
  });

  test('a cloud key authenticates as KEY:SECRET (Basic), and its organization is found without --org', async () => {
    const orgId = await newOrg();
    const env = { ...root, LATCHKEY_ORG: orgId };
    const sa = await h.json(['service-account', 'create', 'admin'], env);
    await h.ok(['role-binding', 'create', '--principal', sa.id, '--role', 'OrganizationAdmin'], env);
    const key = await h.json(['api-key', 'create', '--resource', 'cloud', '--service-account', sa.id], env);
    const asKey = { LATCHKEY_URL: h.url, LATCHKEY_TOKEN: `${key.id}:${key.secret}` };
    const created = await h.json(['service-account', 'create', 'made-by-ci'], asKey);
    const audit = await h.json(['audit', 'list', '--target', created.id], asKey);
    assert.equal(audit.data[0].actor, sa.id);
  });

  test('an API error exits 1 with its detail and request_id on stderr, nothing on stdout', async () => {
    const orgId = await newOrg();
    const missing = await h.latchkey(['environment', 'describe', 'env-doesnotexist', '--org', orgId], root);
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /^Error: .*env-doesnotexist/m);
    assert.match(missing.stderr, /HTTP 404, request_id \S+/);

    const invalid = await h.latchkey(
      ['resource', 'create', 'x', '--kind', 'kafka_cluster', '--environment', 'env-doesnotexist', '--region', 'NOT VALID', '--org', orgId],
      root,
    );
    assert.equal(invalid.code, 1);
    assert.match(invalid.stderr, /region: /);
    assert.match(invalid.stderr, /HTTP 422/);

    const unauthenticated = await h.latchkey(['org', 'list'], { LATCHKEY_URL: h.url, LATCHKEY_TOKEN: 'lkr_wrong-token-0123456789abcdef0123456789' });
    assert.equal(unauthenticated.code, 1);
    assert.match(unauthenticated.stderr, /HTTP 401/);
  });

  test('usage errors exit 2 before any request: unknown command, missing option, bad value, no organization', async () => {
    const usageErrors = [
      ['frobnicate'],
      ['api-key', 'create', '--service-account', 'sa-x'],
      ['api-key', 'create', '--resource', 'cloud'],
      ['org', 'list', '--page-size', '0'],
      ['api-key', 'create', '--resource', 'cloud', '--service-account', 'sa-1', '--idempotency-key', 'short'],
      ['org', 'list', '-o', 'xml'],
      ['role-binding', 'create', '--principal', 'sa-1', '--role', 'Operator', '--environment', 'env-1', '--resource', 'lkc-1'],
    ];
    for (const args of usageErrors) {
      // Nothing listens at this URL: a usage error must be found before anything is sent.
      const result = await h.latchkey(args, { LATCHKEY_URL: 'http://127.0.0.1:9', LATCHKEY_TOKEN: 'lkr_x', LATCHKEY_ORG: 'org-x' });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout, '');
      assert.ok(result.stderr.length > 0);
    }
    // The root token sees every organization, so none is picked for it.
    const noOrg = await h.latchkey(['service-account', 'list'], root);
    assert.equal(noOrg.code, 2);
    assert.match(noOrg.stderr, /no organization given: pass --org/);
    const help = await h.latchkey(['api-key', 'create', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--idempotency-key/);
  });

  test('an unreachable service exits 3', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await h.latchkey(['org', 'list'], { LATCHKEY_URL: `http://127.0.0.1:${port}`, LATCHKEY_TOKEN: h.t.rootToken });
    assert.equal(result.code, 3);
    assert.match(result.stderr, /cannot reach Latchkey at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  test('login saves a 0600 profile that later commands use; flags and environment override it; a readable profile is refused', async () => {
    const orgId = await newOrg();
    const login = await h.latchkey(['login', '--url', h.url, '--token', h.t.rootToken, '--org', orgId]);
    assert.equal(login.code, 0, login.stderr);
    const file = join(h.configDir, 'latchkey', 'config.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(JSON.parse(await readFile(file, 'utf8')).profiles.default.org, orgId);

    const sa = await h.json(['service-account', 'create', 'from-profile'], {});
    assert.match(sa.id, /^sa-/);
    const overridden = await h.latchkey(['service-account', 'list'], { LATCHKEY_TOKEN: 'lkr_wrong-token-0123456789abcdef0123456789' });
    assert.equal(overridden.code, 1);
    assert.match(overridden.stderr, /HTTP 401/);

    const badLogin = await h.latchkey(['login', '--url', h.url, '--token', 'lkr_wrong-token-0123456789abcdef0123456789', '--profile', 'bad']);
    assert.equal(badLogin.code, 1);
    assert.equal(JSON.parse(await readFile(file, 'utf8')).profiles.bad, undefined);

    await chmod(file, 0o644);
    const refused = await h.latchkey(['service-account', 'list'], {});
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /readable by other users .*chmod 600/);
    await chmod(file, 0o600);
  });

  test('a create carries --idempotency-key, and one whose answer was lost is retried with the same key', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const flaky = createServer((request, response) => {
      seen.push(request.headers);
      request.resume();
      if (seen.length === 1) {
        response.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': '0' }).end('{"status":503,"detail":"try again"}');
        return;
      }
      if (seen.length === 2) {
        request.socket.destroy(); // the answer is lost on the way back
        return;
      }
      response.writeHead(201, { 'content-type': 'application/json' }).end('{"id":"sa-abc","display_name":"x"}');
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}`;
      const env = { LATCHKEY_URL: url, LATCHKEY_TOKEN: 'lkr_x', LATCHKEY_ORG: 'org-x' };
      const given = await h.latchkey(['service-account', 'create', 'x', '--idempotency-key', 'ci-run-1234567890', '-o', 'json'], env);
      assert.equal(given.code, 0, given.stderr);
      assert.equal(given.stdout, '{"id":"sa-abc","display_name":"x"}\n');
      assert.deepEqual(
        seen.map((headers) => headers['idempotency-key']),
        ['ci-run-1234567890', 'ci-run-1234567890', 'ci-run-1234567890'],
      );

      seen.length = 0;
      const generated = await h.latchkey(['service-account', 'create', 'x'], env);
      assert.equal(generated.code, 0, generated.stderr);
      const keys = seen.map((headers) => headers['idempotency-key']);
      assert.equal(keys.length, 3);
      assert.match(String(keys[0]), /^[\x21-\x7e]{16,255}$/);
      assert.ok(keys.every((key) => key === keys[0]));
    } finally {
      flaky.close();
    }
  });
});
