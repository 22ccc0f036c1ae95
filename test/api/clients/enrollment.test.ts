import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { suiteApp, uniqueName } from '../../helpers/app.js';
import { clientFixtures, dir, file, openssl } from '../../helpers/clients.js';
import { createAsRoot, createOrg } from '../../helpers/principals.js';

describe('kdb Insights client enrollment', () => {
  const t = suiteApp(() => ({ env: { LATCHKEY_CLIENT_DETAILS_FAILURES_PER_ADDRESS_PER_MINUTE: '1000', LATCHKEY_RATE_LIMITED_DELAY_MS: '0' } }));
  const { deployment, accessToken, enrol, leave, details, topics, enrolled } = clientFixtures(() => t);

  const crlOf = async (orgId: string, resourceId: string) => t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${resourceId}/crl.pem` });

  test('a kdb_insights deployment has default settings, PATCH merges them, bad settings are 422 naming the field', async () => {
    const orgId = await createOrg(t);
    const { id, environmentId } = await deployment(orgId);
    assert.match(id, /^kxi-[a-z0-9]{10}$/);
    const got = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${id}`, headers: t.root });
    assert.deepEqual(got.json().settings, { sequencer_topic: 'data', endpoints: { insert: { insert: [], query: [] }, query: [] }, certificate_days: 365 });

    const patch = await t.inject({
      method: 'PATCH',
      url: `/v1/orgs/${orgId}/resources/${id}`,
      headers: t.root,
      payload: { settings: { endpoints: { insert: { insert: [':10.0.0.1:5002'] }, query: [':10.0.0.2:5003'] } } },
    });
    assert.equal(patch.statusCode, 200, patch.body);
    assert.deepEqual(patch.json().settings, {
      sequencer_topic: 'data',
      endpoints: { insert: { insert: [':10.0.0.1:5002'], query: [] }, query: [':10.0.0.2:5003'] },
      certificate_days: 365,
    });
    const again = await t.inject({
      method: 'PATCH',
      url: `/v1/orgs/${orgId}/resources/${id}`,
      headers: t.root,
      payload: { settings: { certificate_days: 30 } },
    });
    assert.deepEqual(again.json().settings.endpoints.query, [':10.0.0.2:5003']);
    assert.equal(again.json().settings.certificate_days, 30);

    const cases: Array<[object, string]> = [
      [{ certificate_days: 0 }, 'settings.certificate_days'],
      [{ certificate_days: 826 }, 'settings.certificate_days'],
      [{ endpoints: { query: ['10.0.0.1:5002'] } }, 'settings.endpoints.query.0'],
      [{ endpoints: { query: [':host:70000'] } }, 'settings.endpoints.query.0'],
      [{ sequencer_topic: 'da\u0000ta' }, 'settings.sequencer_topic'],
      [{ colour: 'red' }, 'settings.colour'],
    ];
    for (const [settings, path] of cases) {
      const res = await t.inject({ method: 'PATCH', url: `/v1/orgs/${orgId}/resources/${id}`, headers: t.root, payload: { settings } });
      assert.equal(res.statusCode, 422, `${path}: ${res.body}`);
      assert.ok(
        res.json().errors.some((e: { path: string }) => e.path === path),
        `${path} named in ${res.body}`,
      );
    }
    const kafka = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/resources`,
      headers: t.root,
      payload: { kind: 'kafka_cluster', display_name: 'k', environment_id: environmentId, settings: { certificate_days: 5 } },
    });
    assert.equal(kafka.statusCode, 422);
    assert.equal(kafka.json().errors[0].path, 'settings');
    const after = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${id}`, headers: t.root });
    assert.equal(after.json().settings.certificate_days, 30);
  });

  test('each deployment has its own CA: ECDSA P-256, self-signed, CA:TRUE critical, keyCertSign and cRLSign, named after it', async () => {
    const orgId = await createOrg(t);
    const org = (await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}`, headers: t.root })).json();
    const env = await createAsRoot(t, `/v1/orgs/${orgId}/environments`, { display_name: uniqueName('env') });
    const resource = await createAsRoot(t, `/v1/orgs/${orgId}/resources`, { kind: 'kdb_insights', display_name: 'Trading', environment_id: env.id });
    const res = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${resource.id}/ca.pem` });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /application\/x-pem-file/);
    const text = openssl('x509', '-in', file('ca.pem', res.body), '-noout', '-text').stdout;
    assert.match(text, new RegExp(`Subject: CN = Trading Latchkey CA, O = ${org.name}`));
    assert.match(text, new RegExp(`Issuer: CN = Trading Latchkey CA, O = ${org.name}`));
    assert.match(text, /ASN1 OID: prime256v1/);
    assert.match(text, /Basic Constraints: critical\s+CA:TRUE/);
    assert.match(text, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
    const row = await t.store.prisma.certificateAuthority.findUniqueOrThrow({ where: { resourceId: resource.id } });
    assert.match(row.privateKeyEncrypted, /^v1\./);
    assert.ok(!row.privateKeyEncrypted.includes('PRIVATE KEY'));
    const other = await t.inject({ method: 'GET', url: `/v1/orgs/${await createOrg(t)}/resources/${resource.id}/ca.pem` });
    assert.equal(other.statusCode, 404);
  });

  test("the seed's three curl calls work unchanged against a listening server", async () => {
    const orgId = await createOrg(t);
    const { id } = await deployment(orgId, { endpoints: { insert: { insert: [':10.0.0.1:5002'], query: [':10.0.0.1:5003'] }, query: [':10.0.0.2:5050'] } });
    const token = await accessToken(orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const address = t.app.server.address() as { port: number };
    const host = `127.0.0.1:${address.port}`;
    // Asynchronous: the server answering curl runs in this process.
    const curl = async (...args: string[]) => (await promisify(execFile)('curl', ['-sS', '--max-time', '60', ...args], { encoding: 'utf8' })).stdout;

    const enrolOut = await curl(
      `http://${host}/clientcontroller/enrol`,
      '-H',
      `Authorization: Bearer ${token}`,
      '-d',
      '{ "name": "my-client", "topics": { "insert": "data", "query": "requests" }}',
    );
    const enrolledBody = JSON.parse(enrolOut);
    assert.deepEqual(Object.keys(enrolledBody), ['message', 'detail', 'url']);
    assert.equal(enrolledBody.message, 'success');
    assert.equal(enrolledBody.detail, 'Client enrolled');
    assert.match(enrolledBody.url, /^[0-9a-f]{32}$/);
    const clientId: string = enrolledBody.url;

    const info = JSON.parse(await curl(`http://${host}/informationservice/details/${clientId}`));
    assert.deepEqual(Object.keys(info), ['name', 'topics', 'ca', 'cert', 'key', 'insert', 'query']);
    assert.equal(info.name, 'my-client');
    assert.deepEqual(info.topics, { insert: 'data', query: 'requests' });
    assert.deepEqual(info.insert, { insert: [':10.0.0.1:5002'], query: [':10.0.0.1:5003'] });
    assert.deepEqual(info.query, [':10.0.0.2:5050']);
    assert.match(info.key, /^-----BEGIN PRIVATE KEY-----/);

    // Real X.509, judged by openssl.
    const ca = file('ca.pem', info.ca);
    const cert = file('cert.pem', info.cert);
    const key = file('key.pem', info.key);
    const verified = openssl('verify', '-CAfile', ca, cert);
    assert.equal(verified.stdout.trim(), `${cert}: OK`, verified.stderr);
    const text = openssl('x509', '-in', cert, '-noout', '-text').stdout;
    assert.match(text, /Subject: CN = my-client\n/);
    assert.match(text, /Extended Key Usage: \s*TLS Web Client Authentication/);
    assert.match(text, /Key Usage: critical\s+Digital Signature/);
    assert.match(text, new RegExp(`URI:urn:latchkey:${orgId}:${id}:client:my-client`));
    const certKey = openssl('x509', '-in', cert, '-noout', '-pubkey').stdout;
    assert.equal(openssl('pkey', '-in', key, '-pubout').stdout, certKey);
    // Re-readable, as the KX SDKs re-read details.
    assert.deepEqual(JSON.parse(await curl(`http://${host}/informationservice/details/${clientId}`)), info);

    const leaveOut = await curl(`http://${host}/clientcontroller/leave`, '-H', `Authorization: Bearer ${token}`, '-d', '{ "name": "my-client" }');
    assert.deepEqual(JSON.parse(leaveOut), { message: 'success', detail: 'Client removed' });
    assert.equal(await curl('-o', '/dev/null', '-w', '%{http_code}', `http://${host}/informationservice/details/${clientId}`), '404');

    // The client id is a credential: not in logs (the details route is logged by its template), audit events or the database.
    assert.ok(t.logs.some((line) => line.includes('/informationservice/details/{client_id}')));
    assert.ok(!t.logs.some((line) => line.includes(clientId)), 'client id in logs');
    const events = await t.store.prisma.auditEvent.findMany({ where: { orgId } });
    assert.deepEqual(
      events.filter((e) => e.action.startsWith('client.')).map((e) => e.action),
      ['client.enrolled', 'client.left'],
    );
    assert.ok(!JSON.stringify(events, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).includes(clientId));
  });

  test('a real mutual-TLS handshake: the enrolled client is accepted, a self-signed look-alike refused, and after leave a CRL-checking server refuses it', async () => {
    const orgId = await createOrg(t);
    const { id } = await deployment(orgId);
    const name = uniqueName('client');
    const { clientId, details: info } = await enrolled(t.root, name, `?resource_id=${id}`);
    const server = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/resources/${id}/server-certificates`,
      headers: t.root,
      payload: { dns_names: ['localhost'], ip_addresses: ['127.0.0.1'] },
    });
    assert.equal(server.statusCode, 201, server.body);
    const serverCert = server.json();
    assert.equal(serverCert.ca, info.ca);
    assert.match(
      openssl('x509', '-in', file('srv.pem', serverCert.cert), '-noout', '-text').stdout,
      /TLS Web Server Authentication[\s\S]*IP Address:127.0.0.1/,
    );

    /** Handshakes with a server trusting only the deployment CA (and its CRL, when given); resolves to what the server saw. */
    async function handshake(client: { cert: string; key: string }, crl?: string): Promise<{ authorized: boolean; error?: string }> {
      const srv = tls.createServer({
        cert: serverCert.cert,
        key: serverCert.key,
        ca: info.ca,
        requestCert: true,
        rejectUnauthorized: false,
        ...(crl ? { crl } : {}),
      });
      srv.listen(0, '127.0.0.1');
      await once(srv, 'listening');
      const seen = new Promise<{ authorized: boolean; error?: string }>((resolve) =>
        srv.once('secureConnection', (socket: tls.TLSSocket) => {
          resolve({ authorized: socket.authorized, ...(socket.authorizationError ? { error: String(socket.authorizationError) } : {}) });
          socket.end();
        }),
      );
      const socket = tls.connect({
        host: '127.0.0.1',
        port: (srv.address() as { port: number }).port,
        ca: info.ca,
        cert: client.cert,
        key: client.key,
        servername: 'localhost',
      });
      socket.on('error', () => {});
      await once(socket, 'secureConnect');
      assert.ok(socket.authorized, 'the client trusts the server certificate through the deployment CA');
      const result = await seen;
      socket.destroy();
      srv.close();
      return result;
    }

    assert.deepEqual(await handshake({ cert: info.cert, key: info.key }), { authorized: true });

    const fakeKey = join(dir, `${uniqueName('fake')}.key`);
    const fakeCert = join(dir, `${uniqueName('fake')}.pem`);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        fakeKey,
        '-out',
        fakeCert,
        '-subj',
        `/CN=${name}`,
        '-days',
        '1',
      ],
      { stdio: 'ignore' },
    );
    const fake = await handshake({ cert: readFileSync(fakeCert, 'utf8'), key: readFileSync(fakeKey, 'utf8') });
    assert.equal(fake.authorized, false);

    const before = await crlOf(orgId, id);
    assert.equal((await leave(t.root, { name }, `?resource_id=${id}`)).statusCode, 200);
    const crl = await crlOf(orgId, id);
    assert.notEqual(crl.headers.etag, before.headers.etag);
    const revoked = await handshake({ cert: info.cert, key: info.key }, crl.body);
    assert.equal(revoked.authorized, false);
    assert.match(revoked.error ?? '', /CERT_REVOKED/);
    const check = openssl('verify', '-crl_check', '-CAfile', file('ca.pem', info.ca), '-CRLfile', file('crl.pem', crl.body), file('cert.pem', info.cert));
    assert.notEqual(check.status, 0);
    assert.match(check.stdout + check.stderr, /certificate revoked/);
    assert.equal((await details(clientId)).statusCode, 404);
  });

  test('the CRL is signed by the CA, lists revocations at once, numbers them upwards, lasts 7 days and answers If-None-Match with 304', async () => {
    const orgId = await createOrg(t);
    const { id } = await deployment(orgId);
    const ca = file('ca.pem', (await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${id}/ca.pem` })).body);
    const first = await crlOf(orgId, id);
    assert.equal(first.statusCode, 200);
    assert.match(first.body, /^-----BEGIN X509 CRL-----/);
    const crlNumber = (pem: string) => Number(/CRL Number:\s*\n?\s*(\d+)/.exec(openssl('crl', '-in', file('crl.pem', pem), '-noout', '-text').stdout)![1]);
    assert.match(openssl('crl', '-in', file('crl.pem', first.body), '-CAfile', ca, '-noout').stderr, /verify OK/);
    const cached = await t.inject({
      method: 'GET',
      url: `/v1/orgs/${orgId}/resources/${id}/crl.pem`,
      headers: { 'if-none-match': first.headers.etag as string },
    });
    assert.equal(cached.statusCode, 304);

    const names = [uniqueName('a'), uniqueName('b')];
    const serials: string[] = [];
    for (const name of names) {
      const { details: info } = await enrolled(t.root, name, `?resource_id=${id}`);
      serials.push(openssl('x509', '-in', file('c.pem', info.cert), '-noout', '-serial').stdout.trim().split('=')[1]!);
    }
    let previous = crlNumber(first.body);
    for (const [i, name] of names.entries()) {
      assert.equal((await leave(t.root, { name }, `?resource_id=${id}`)).statusCode, 200);
      const crl = await crlOf(orgId, id);
      const text = openssl('crl', '-in', file('crl.pem', crl.body), '-noout', '-text').stdout;
      for (const serial of serials.slice(0, i + 1)) assert.match(text, new RegExp(`Serial Number: ${serial}`));
      assert.ok(crlNumber(crl.body) > previous);
      previous = crlNumber(crl.body);
      const last = new Date(/Last Update: (.*)/.exec(text)![1]!);
      const next = new Date(/Next Update: (.*)/.exec(text)![1]!);
      assert.equal(next.getTime() - last.getTime(), 7 * 86_400_000);
    }
  });

  test('a CRL close to its nextUpdate is re-signed when fetched', async () => {
    const orgId = await createOrg(t);
    const { id } = await deployment(orgId);
    const first = await crlOf(orgId, id);
    await t.store.prisma.certificateAuthority.update({ where: { resourceId: id }, data: { crlNextUpdate: new Date(Date.now() + 3_600_000) } });
    const second = await crlOf(orgId, id);
    assert.notEqual(second.headers.etag, first.headers.etag);
    const row = await t.store.prisma.certificateAuthority.findUniqueOrThrow({ where: { resourceId: id } });
    assert.ok(row.crlNextUpdate.getTime() > Date.now() + 6 * 86_400_000);
  });

  test('with a CSR the key is certified, the subject forced to CN=<name>, and no private key is kept', async () => {
    const orgId = await createOrg(t);
    const { id } = await deployment(orgId);
    const keyPath = join(dir, `${uniqueName('csr')}.key`);
    const csrPath = join(dir, `${uniqueName('csr')}.csr`);
    execFileSync(
      'openssl',
      [
        'req',
        '-new',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        csrPath,
        '-subj',
        '/CN=someone-else/O=Evil',
      ],
      { stdio: 'ignore' },
    );
    const csr = readFileSync(csrPath, 'utf8');
    const name = uniqueName('csr');
    const res = await enrol(t.root, { name, topics, csr }, `?resource_id=${id}`);
    assert.equal(res.statusCode, 200, res.body);
    const info = (await details(res.json().url)).json();
    assert.equal(info.key, null);
    const cert = file('cert.pem', info.cert);
    assert.match(openssl('x509', '-in', cert, '-noout', '-subject').stdout, new RegExp(`subject=CN = ${name}\\n`));
    assert.equal(openssl('x509', '-in', cert, '-noout', '-pubkey').stdout, openssl('pkey', '-in', keyPath, '-pubout').stdout);
    assert.match(openssl('verify', '-CAfile', file('ca.pem', info.ca), cert).stdout, /OK/);
    const row = await t.store.prisma.clientEnrollment.findFirstOrThrow({ where: { resourceId: id, name } });
    assert.equal(row.privateKeyEncrypted, null);

    // A request whose signature does not match: one byte of the signature flipped.
    const der = Buffer.from(csr.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
    der[der.length - 5]! ^= 0x01;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    for (const bad of [tampered, 'not a csr']) {
      const refused = await enrol(t.root, { name: uniqueName('x'), topics, csr: bad }, `?resource_id=${id}`);
      assert.equal(refused.statusCode, 422, refused.body);
      assert.equal(refused.json().message, 'failure');
      assert.match(refused.json().detail, /csr/);
    }
    assert.equal(await t.store.prisma.clientEnrollment.count({ where: { resourceId: id } }), 1);
  });

  test('native API: list and get show name, topics, serial, not_after, created_at and never the client id; DELETE is leave', async () => {
    const orgId = await createOrg(t);
    const { id } = await deployment(orgId);
    const a = await enrolled(t.root, 'alpha', `?resource_id=${id}`);
    await enrolled(t.root, 'beta', `?resource_id=${id}`);
    const list = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${id}/clients?page_size=1`, headers: t.root });
    assert.equal(list.statusCode, 200);
    assert.equal(list.json().data.length, 1);
    assert.ok(list.json().next_page_token);
    const one = await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${id}/clients/alpha`, headers: t.root });
    assert.deepEqual(Object.keys(one.json()).sort(), ['created_at', 'name', 'not_after', 'serial', 'topics']);
    assert.match(one.json().serial, /^[0-9a-f]{32}$/);
    assert.ok(!list.body.includes(a.clientId) && !one.body.includes(a.clientId));
    const del = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/resources/${id}/clients/alpha`, headers: t.root });
    assert.equal(del.statusCode, 204);
    assert.equal((await details(a.clientId)).statusCode, 404);
    assert.equal((await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/resources/${id}/clients/alpha`, headers: t.root })).statusCode, 404);
    const audit = await t.store.prisma.auditEvent.findMany({ where: { orgId, action: 'client.left' } });
    assert.equal(audit.length, 1);
  });

  test('server certificates: serverAuth for the named hosts, key returned once and not stored, audited; bad hosts are 422', async () => {
    const orgId = await createOrg(t);
    const { id } = await deployment(orgId);
    const res = await t.inject({
      method: 'POST',
      url: `/v1/orgs/${orgId}/resources/${id}/server-certificates`,
      headers: t.root,
      payload: { dns_names: ['kx.example.com'], ip_addresses: ['10.0.0.1', '::1'], days: 10 },
    });
    assert.equal(res.statusCode, 201, res.body);
    const text = openssl('x509', '-in', file('s.pem', res.json().cert), '-noout', '-text').stdout;
    assert.match(text, /DNS:kx.example.com, IP Address:10.0.0.1, IP Address:0:0:0:0:0:0:0:1/);
    assert.match(text, /TLS Web Server Authentication/);
    const keyBody = res.json().key.split('\n')[1];
    const dump = JSON.stringify(await t.store.prisma.auditEvent.findMany({ where: { orgId } }), (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    assert.ok(dump.includes('server_certificate.issued') && !dump.includes(keyBody));
    for (const payload of [{ dns_names: ['bad host'] }, { ip_addresses: ['999.1.1.1'] }, {}, { dns_names: ['a.b'], days: 0 }]) {
      const bad = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/resources/${id}/server-certificates`, headers: t.root, payload });
      assert.equal(bad.statusCode, 422, `${JSON.stringify(payload)}: ${bad.body}`);
    }
  });

  test('settings changes reach enrolled clients; deleting the deployment removes its enrollments and CA', async () => {
    const orgId = await createOrg(t);
    const { id } = await deployment(orgId);
    const { clientId } = await enrolled(t.root, uniqueName('c'), `?resource_id=${id}`);
    await t.inject({
      method: 'PATCH',
      url: `/v1/orgs/${orgId}/resources/${id}`,
      headers: t.root,
      payload: { settings: { endpoints: { query: [':kx.example.com:5050'] } } },
    });
    assert.deepEqual((await details(clientId)).json().query, [':kx.example.com:5050']);
    const del = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}/resources/${id}`, headers: t.root });
    assert.equal(del.statusCode, 204, del.body);
    assert.equal((await details(clientId)).statusCode, 404);
    assert.equal(await t.store.prisma.clientEnrollment.count({ where: { resourceId: id } }), 0);
    assert.equal(await t.store.prisma.certificateAuthority.count({ where: { resourceId: id } }), 0);
    assert.equal((await t.inject({ method: 'GET', url: `/v1/orgs/${orgId}/resources/${id}/crl.pem` })).statusCode, 404);
  });

  test('deleting the organization ends its clients at once, cached details included', async () => {
    const orgId = await createOrg(t);
    const { id } = await deployment(orgId);
    const { clientId } = await enrolled(t.root, uniqueName('c'), `?resource_id=${id}`);
    assert.equal((await details(clientId)).statusCode, 200);
    const del = await t.inject({ method: 'DELETE', url: `/v1/orgs/${orgId}?force=true`, headers: t.root });
    assert.equal(del.statusCode, 204, del.body);
    assert.equal((await details(clientId)).statusCode, 404);
  });
});
