import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { uniqueName } from '../helpers/app.js';
import { type CliHarness, startCliHarness } from '../helpers/cli.js';

/** The command groups of the later credential families: cluster keys, access keys, kdb Insights clients, users. */
describe('latchkey CLI: cluster-key, access-key, client, user', () => {
  let h: CliHarness;
  let root: Record<string, string>;
  before(async () => {
    h = await startCliHarness();
    root = h.root;
  });
  after(() => h.close());

  /** An organization with one environment and one resource of this kind, made through the CLI. */
  async function orgWith(kind: string): Promise<{ env: Record<string, string>; resourceId: string }> {
    const org = await h.json(['org', 'create', uniqueName('cli')]);
    const env = { ...root, LATCHKEY_ORG: org.id as string };
    const environment = await h.json(['environment', 'create', 'production'], env);
    const resource = await h.json(['resource', 'create', uniqueName('res'), '--kind', kind, '--environment', environment.id], env);
    return { env, resourceId: resource.id };
  }

  /** An API error: exit 1, nothing on stdout, the detail and the HTTP status on stderr. */
  async function apiError(args: string[], env: Record<string, string>, status: number, detail: RegExp): Promise<void> {
    const result = await h.latchkey(args, env);
    assert.equal(result.code, 1, `latchkey ${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, detail);
    assert.match(result.stderr, new RegExp(`HTTP ${status}`));
  }

  test('cluster-key: create prints the token once; list, describe, verify, revoke and delete follow', async () => {
    const { env, resourceId: cluster } = await orgWith('pulsar_cluster');
    assert.match(cluster, /^pc-/);
    const sa = await h.json(['service-account', 'create', 'broker-client'], env);

    const created = await h.latchkey(
      [
        'cluster-key',
        'create',
        'orders',
        '--service-account',
        sa.id,
        '--cluster',
        cluster,
        '--description',
        'orders app',
        '--idempotency-key',
        'ci-run-cluster-key-0001',
      ],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const token = /^token\s+(\S+)$/m.exec(created.stdout)?.[1];
    const keyId = /^id\s+(ck-\S+)$/m.exec(created.stdout)?.[1];
    assert.ok(token && keyId, created.stdout);
    assert.equal(token.split('.').length, 3, 'the token is a JWT');
    assert.match(created.stderr, /cannot show it again/);
    assert.ok(!h.t.logs.join('\n').includes(token), 'the token reached the service log');
    // The same Idempotency-Key replays the first answer: no second key.
    const replay = await h.json(
      [
        'cluster-key',
        'create',
        'orders',
        '--service-account',
        sa.id,
        '--cluster',
        cluster,
        '--description',
        'orders app',
        '--idempotency-key',
        'ci-run-cluster-key-0001',
      ],
      env,
    );
    assert.equal(replay.id, keyId);

    const forever = await h.json(['cluster-key', 'create', 'forever', '--service-account', sa.id, '--cluster', cluster, '--no-expiry'], env);
    assert.equal(forever.expires_at, null);
    const dated = await h.json(
      ['cluster-key', 'create', 'dated', '--service-account', sa.id, '--cluster', cluster, '--expires-at', '2099-01-01T00:00:00Z'],
      env,
    );
    assert.equal(Date.parse(dated.expires_at), Date.parse('2099-01-01T00:00:00Z'));

    const listed = await h.ok(['cluster-key', 'list', '--cluster', cluster, '--status', 'active'], env);
    assert.match(listed, /^ID\s+NAME\s+OWNER\s+CLUSTER_ID\s+STATUS/);
    assert.match(listed, new RegExp(`${keyId}\\s+orders\\s+${sa.id}.*\\s+${cluster}\\s+active`));
    assert.ok(!listed.includes(token));
    const described = parseYaml(await h.ok(['cluster-key', 'describe', keyId, '-o', 'yaml'], env));
    assert.equal(described.description, 'orders app');
    assert.equal(described.token, undefined);

    // --token after `verify cluster-key` is the key to check; the caller's own credential is LATCHKEY_TOKEN.
    const valid = await h.json(['verify', 'cluster-key', '--token', token, '--cluster', cluster], env);
    assert.deepEqual([valid.valid, valid.code, valid.key.id, valid.principal.id], [true, 'VALID', keyId, sa.id]);
    // Given before the subcommand, --token is the caller's credential.
    const viaFlag = await h.json(['--token', h.t.rootToken, 'verify', 'cluster-key', '--cluster', 'pc-other'], {
      LATCHKEY_URL: h.url,
      LATCHKEY_VERIFY_TOKEN: token,
    });
    assert.equal(viaFlag.code, 'WRONG_RESOURCE');

    const revoked = await h.latchkey(['cluster-key', 'revoke', keyId], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /^status\s+revoked$/m);
    assert.equal((await h.json(['verify', 'cluster-key', '--token', token, '--cluster', cluster], env)).code, 'REVOKED');
    assert.deepEqual(
      (await h.json(['cluster-key', 'list', '--status', 'revoked'], env)).data.map((k: { id: string }) => k.id),
      [keyId],
    );

    const deleted = await h.latchkey(['cluster-key', 'delete', forever.id], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, '');
    assert.match(deleted.stderr, new RegExp(`Deleted cluster key ${forever.id}`));
    assert.deepEqual(
      (await h.json(['cluster-key', 'list', '--service-account', sa.id], env)).data.map((k: { id: string }) => k.id).sort(),
      [keyId, dated.id].sort(),
    );

    await apiError(['cluster-key', 'describe', forever.id], env, 404, /^Error: /m);
    await apiError(['cluster-key', 'create', 'orders', '--service-account', sa.id, '--cluster', cluster], env, 409, /^Error: /m);
  });

  test('access-key: create prints the key once; list, describe, verify, rotate and delete follow', async () => {
    const { env, resourceId: cluster } = await orgWith('fluvio_cluster');
    assert.match(cluster, /^fc-/);

    const created = await h.latchkey(['access-key', 'create', 'orders-consumer', '--cluster', cluster, '--topic', 'orders', '--consume'], env);
    assert.equal(created.code, 0, created.stderr);
    const key = /^key\s+(lka\S+)$/m.exec(created.stdout)?.[1];
    assert.ok(key, created.stdout);
    assert.match(created.stderr, /cannot show it again/);
    assert.ok(!h.t.logs.join('\n').includes(key), 'the key reached the service log');
    const fluvio = await h.json(['access-key', 'create', 'admin', '--cluster', cluster, '--protocol', 'fluvio'], env);
    assert.deepEqual([fluvio.protocol, fluvio.topic], ['fluvio', null]);
    const filtered = await h.json(
      [
        'access-key',
        'create',
        'filtered',
        '--cluster',
        cluster,
        '--topic',
        'orders',
        '--consume',
        '--key-filter-remote',
        'tenant:https://filter.example.com/keys',
      ],
      env,
    );
    assert.equal(filtered.key_filter_remote, 'tenant:https://filter.example.com/keys');

    const listed = await h.ok(['access-key', 'list', '--cluster', cluster], env);
    assert.match(listed, /^NAME\s+PROTOCOL\s+TOPIC\s+CONSUME\s+PRODUCE\s+KEY_HINT/);
    assert.match(listed, /^orders-consumer\s+simple\s+orders\s+true\s+false/m);
    assert.ok(!listed.includes(key));
    assert.equal((await h.json(['access-key', 'describe', 'orders-consumer', '--cluster', cluster], env)).key, undefined);

    const consume = await h.json(['verify', 'access-key', '--key', key, '--cluster', cluster, '--operation', 'consume', '--topic', 'orders'], env);
    assert.deepEqual([consume.valid, consume.code, consume.key.name], [true, 'VALID', 'orders-consumer']);
    assert.equal(
      (await h.json(['verify', 'access-key', '--key', key, '--cluster', cluster, '--operation', 'produce', '--topic', 'orders'], env)).code,
      'FORBIDDEN',
    );
    // --param reaches the API: a key filter's PARAM missing from params is its own code.
    const noParam = await h.json(
      ['verify', 'access-key', '--key', filtered.key, '--cluster', cluster, '--operation', 'consume', '--topic', 'orders', '--param', 'other=1'],
      env,
    );
    assert.equal(noParam.code, 'KEY_FILTER_REQUIRED');

    const rotated = await h.json(['access-key', 'rotate', 'orders-consumer', '--cluster', cluster, '--grace-period', '60'], env);
    assert.ok(rotated.key && rotated.key !== key);
    assert.equal(
      (await h.json(['verify', 'access-key', '--key', rotated.key, '--cluster', cluster, '--operation', 'consume', '--topic', 'orders'], env)).code,
      'VALID',
    );
    assert.equal(
      (await h.json(['verify', 'access-key', '--key', key, '--cluster', cluster, '--operation', 'consume', '--topic', 'orders'], env)).code,
      'VALID',
      'the old key verifies during the grace period',
    );

    const deleted = await h.latchkey(['access-key', 'delete', 'orders-consumer', '--cluster', cluster], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stderr, /Deleted access key orders-consumer/);
    const gone = await h.json(['verify', 'access-key', '--cluster', cluster, '--operation', 'consume', '--topic', 'orders'], {
      ...env,
      LATCHKEY_VERIFY_KEY: rotated.key,
    });
    assert.equal(gone.valid, false);
    assert.deepEqual((await h.json(['access-key', 'list', '--cluster', cluster], env)).data.map((k: { name: string }) => k.name).sort(), ['admin', 'filtered']);

    await apiError(['access-key', 'create', 'no-topic', '--cluster', cluster], env, 422, /topic/);
    await apiError(['access-key', 'rotate', 'orders-consumer', '--cluster', cluster], env, 404, /^Error: /m);
  });

  test('client: enrol, list, describe, details --write-dir (0600 files), leave; a CSR enrolment writes no key.pem', async () => {
    const { env, resourceId: deployment } = await orgWith('kdb_insights');
    assert.match(deployment, /^kxi-/);

    const enrolled = await h.json(['client', 'enrol', 'trader-1', '--deployment', deployment, '--insert-topic', 'data', '--query-topic', 'requests'], env);
    assert.deepEqual([enrolled.message, enrolled.detail], ['success', 'Client enrolled']);
    const clientId: string = enrolled.url;
    assert.match(clientId, /^[0-9a-f]{32}$/);

    const listed = await h.ok(['client', 'list', '--deployment', deployment], env);
    assert.match(listed, /^NAME\s+TOPICS\s+SERIAL\s+NOT_AFTER/);
    assert.match(listed, /^trader-1\s+data requests\s+\S+/m);
    assert.equal((await h.json(['client', 'describe', 'trader-1', '--deployment', deployment], env)).name, 'trader-1');

    // The details need no credential: the client id is the key to them.
    const dir = join(h.home, uniqueName('certs'));
    const details = await h.latchkey(['client', 'details', clientId, '--write-dir', dir], { LATCHKEY_URL: h.url });
    assert.equal(details.code, 0, details.stderr);
    assert.equal(details.stdout, '');
    assert.deepEqual((await readdir(dir)).sort(), ['ca.pem', 'cert.pem', 'key.pem']);
    for (const file of ['ca.pem', 'cert.pem', 'key.pem']) assert.equal((await stat(join(dir, file))).mode & 0o777, 0o600, file);
    const [ca, cert, key] = await Promise.all(['ca.pem', 'cert.pem', 'key.pem'].map((file) => readFile(join(dir, file), 'utf8')));
    assert.match(execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'cert.pem')], { encoding: 'utf8' }), /OK/);
    assert.equal(
      execFileSync('openssl', ['pkey', '-in', join(dir, 'key.pem'), '-pubout'], { encoding: 'utf8' }),
      execFileSync('openssl', ['x509', '-in', join(dir, 'cert.pem'), '-noout', '-pubkey'], { encoding: 'utf8' }),
    );
    const printed = await h.json(['client', 'details', clientId], { LATCHKEY_URL: h.url });
    assert.deepEqual([printed.ca, printed.cert, printed.key], [ca, cert, key]);

    // With --csr the caller keeps its key: no key.pem is written.
    const csrKey = join(h.home, `${uniqueName('csr')}.key`);
    const csrFile = join(h.home, `${uniqueName('csr')}.csr`);
    execFileSync(
      'openssl',
      ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', csrKey, '-out', csrFile, '-subj', '/CN=trader-2'],
      { stdio: 'ignore' },
    );
    const withCsr = await h.json(
      ['client', 'enrol', 'trader-2', '--deployment', deployment, '--insert-topic', 'data', '--query-topic', 'requests', '--csr', csrFile],
      env,
    );
    const csrDir = join(h.home, uniqueName('certs'));
    await h.ok(['client', 'details', withCsr.url, '--write-dir', csrDir], { LATCHKEY_URL: h.url });
    assert.deepEqual((await readdir(csrDir)).sort(), ['ca.pem', 'cert.pem']);

    // --force re-enrols an enrolled name with a new client id; without it the name is taken.
    await apiError(['client', 'enrol', 'trader-2', '--deployment', deployment, '--insert-topic', 'data', '--query-topic', 'requests'], env, 409, /^Error: /m);
    const again = await h.json(
      ['client', 'enrol', 'trader-2', '--deployment', deployment, '--insert-topic', 'data', '--query-topic', 'requests', '--force'],
      env,
    );
    assert.notEqual(again.url, withCsr.url);

    const left = await h.latchkey(['client', 'leave', 'trader-1', '--deployment', deployment], env);
    assert.equal(left.code, 0, left.stderr);
    assert.match(left.stderr, new RegExp(`Client trader-1 left ${deployment}`));
    assert.deepEqual(
      (await h.json(['client', 'list', '--deployment', deployment], env)).data.map((c: { name: string }) => c.name),
      ['trader-2'],
    );
    await apiError(['client', 'details', clientId], { LATCHKEY_URL: h.url }, 404, /^Error: /m);
    await apiError(
      ['client', 'enrol', 'trader-3', '--deployment', deployment, '--insert-topic', 'not-the-sequencer', '--query-topic', 'requests'],
      env,
      422,
      /^Error: /m,
    );
  });

  test('client enrol authenticates with a cloud key as KEY:SECRET (Basic)', async () => {
    const { env, resourceId: deployment } = await orgWith('kdb_insights');
    const sa = await h.json(['service-account', 'create', 'enroller'], env);
    await h.ok(['role-binding', 'create', '--principal', sa.id, '--role', 'OrganizationAdmin'], env);
    const key = await h.json(['api-key', 'create', '--resource', 'cloud', '--service-account', sa.id], env);
    const enrolled = await h.json(['client', 'enrol', 'from-ci', '--deployment', deployment, '--insert-topic', 'data', '--query-topic', 'q'], {
      LATCHKEY_URL: h.url,
      LATCHKEY_TOKEN: `${key.id}:${key.secret}`,
    });
    assert.match(enrolled.url, /^[0-9a-f]{32}$/);
  });

  test('user: create, list, describe, delete, and a duplicate email exits 1', async () => {
    const { env } = await orgWith('kafka_cluster');
    const email = `${uniqueName('ada')}@example.com`;
    const user = await h.json(['user', 'create', email, '--full-name', 'Ada Lovelace'], env);
    assert.match(user.id, /^u-/);
    assert.match(await h.ok(['user', 'list'], env), new RegExp(`${user.id}\\s+${email}\\s+Ada Lovelace`));
    assert.equal(parseYaml(await h.ok(['user', 'describe', user.id, '-o', 'yaml'], env)).full_name, 'Ada Lovelace');
    await apiError(['user', 'create', email.toUpperCase()], env, 409, /^Error: /m);
    const deleted = await h.latchkey(['user', 'delete', user.id], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.match(deleted.stderr, new RegExp(`Deleted user ${user.id}`));
    await apiError(['user', 'describe', user.id], env, 404, /^Error: /m);
  });

  test('-o json is the API body unchanged for the new groups', async () => {
    const { env, resourceId: cluster } = await orgWith('fluvio_cluster');
    await h.json(['access-key', 'create', 'json-check', '--cluster', cluster, '--topic', 't'], env);
    const api = await h.t.inject({ method: 'GET', url: `/v1/orgs/${env.LATCHKEY_ORG}/resources/${cluster}/access-keys/json-check`, headers: h.t.root });
    assert.equal(await h.ok(['access-key', 'describe', 'json-check', '--cluster', cluster, '-o', 'json'], env), `${api.body}\n`);
    assert.deepEqual(
      parseYaml(await h.ok(['access-key', 'list', '--cluster', cluster, '-o', 'yaml'], env)),
      (await h.t.inject({ method: 'GET', url: `/v1/orgs/${env.LATCHKEY_ORG}/resources/${cluster}/access-keys`, headers: h.t.root })).json(),
    );
  });

  test('usage errors of the new groups exit 2 before any request; every new command has --help', async () => {
    const usageErrors = [
      ['cluster-key', 'create', 'x', '--cluster', 'pc-1'],
      ['cluster-key', 'create', 'x', '--service-account', 'sa-1', '--cluster', 'pc-1', '--expires-at', '2099-01-01T00:00:00Z', '--no-expiry'],
      ['cluster-key', 'create', 'x', '--service-account', 'sa-1', '--cluster', 'pc-1', '--expires-at', 'tomorrow'],
      ['cluster-key', 'list', '--status', 'gone'],
      ['access-key', 'create', 'x'],
      ['access-key', 'create', 'x', '--cluster', 'fc-1', '--protocol', 'kafka'],
      ['access-key', 'rotate', 'x', '--cluster', 'fc-1', '--grace-period', '-1'],
      ['access-key', 'list'],
      ['client', 'enrol', 'x', '--deployment', 'kxi-1', '--insert-topic', 'data'],
      ['client', 'enrol', 'x', '--deployment', 'kxi-1', '--insert-topic', 'data', '--query-topic', 'q', '--csr', '/nonexistent/file.csr'],
      ['client', 'leave', 'x'],
      ['verify', 'cluster-key', '--cluster', 'pc-1'],
      ['verify', 'access-key', '--key', 'k', '--cluster', 'fc-1', '--operation', 'admin'],
      ['verify', 'access-key', '--key', 'k', '--cluster', 'fc-1', '--operation', 'consume', '--param', 'no-equals'],
      ['user', 'create'],
    ];
    for (const args of usageErrors) {
      const result = await h.latchkey(args, { LATCHKEY_URL: 'http://127.0.0.1:9', LATCHKEY_TOKEN: 'lkr_x', LATCHKEY_ORG: 'org-x' });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout, '');
      assert.ok(result.stderr.length > 0);
    }
    const helps: [string[], RegExp][] = [
      [['cluster-key', 'create', '--help'], /--no-expiry[\s\S]*--idempotency-key/],
      [['access-key', 'create', '--help'], /--key-filter-remote[\s\S]*--idempotency-key/],
      [['access-key', 'rotate', '--help'], /--grace-period/],
      [['client', 'enrol', '--help'], /--csr[\s\S]*--force[\s\S]*--idempotency-key/],
      [['client', 'details', '--help'], /--write-dir/],
      [['verify', 'cluster-key', '--help'], /--token <jwt>/],
      [['verify', 'access-key', '--help'], /--param/],
      [['user', '--help'], /create[\s\S]*list[\s\S]*describe[\s\S]*delete/],
    ];
    for (const [args, expected] of helps) {
      const help = await h.latchkey(args);
      assert.equal(help.code, 0, args.join(' '));
      assert.match(help.stdout, expected, args.join(' '));
    }
  });
});
