import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestApp, uniqueName } from './app.js';
import { createAsRoot, credentialFor, type ScopeRef } from './principals.js';

/** openssl, the tool that is not ours, in a scratch directory. */
export const dir = mkdtempSync(join(tmpdir(), 'latchkey-clients-'));
export const file = (name: string, text: string) => {
  const path = join(dir, `${uniqueName('f')}-${name}`);
  writeFileSync(path, text);
  return path;
};
export const openssl = (...args: string[]) => spawnSync('openssl', args, { encoding: 'utf8' });

/** The kdb Insights client suites' shared setup; `app` returns the suite's running app. */
export function clientFixtures(app: () => TestApp) {
  async function deployment(orgId: string, settings?: object): Promise<{ id: string; environmentId: string }> {
    const env = await createAsRoot(app(), `/v1/orgs/${orgId}/environments`, { display_name: uniqueName('env') });
    const resource = await createAsRoot(app(), `/v1/orgs/${orgId}/resources`, {
      kind: 'kdb_insights',
      display_name: uniqueName('kx'),
      environment_id: env.id,
      ...(settings ? { settings } : {}),
    });
    return { id: resource.id, environmentId: env.id };
  }

  /** An access token from /oauth2/token for a principal with these role bindings. */
  async function accessToken(orgId: string, bindings: Array<{ role: string; scope: ScopeRef }>): Promise<string> {
    const credential = await credentialFor(app(), orgId, bindings);
    const res = await app().inject({
      method: 'POST',
      url: '/oauth2/token',
      payload: { grant_type: 'client_credentials', client_id: credential.keyId, client_secret: credential.secret },
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json().access_token;
  }

  /** The seed's calls, with curl's form content type. */
  const enrol = (headers: Record<string, string>, body: object | string, query = '') =>
    app().inject({
      method: 'POST',
      url: `/clientcontroller/enrol${query}`,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const leave = (headers: Record<string, string>, body: object, query = '') =>
    app().inject({
      method: 'POST',
      url: `/clientcontroller/leave${query}`,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      payload: JSON.stringify(body),
    });
  const details = (clientId: string) => app().inject({ method: 'GET', url: `/informationservice/details/${clientId}` });
  const topics = { insert: 'data', query: 'requests' };

  async function enrolled(headers: Record<string, string>, name: string, query = '') {
    const res = await enrol(headers, { name, topics }, query);
    assert.equal(res.statusCode, 200, res.body);
    const clientId = res.json().url as string;
    const info = await details(clientId);
    assert.equal(info.statusCode, 200, info.body);
    return { clientId, details: info.json() };
  }

  return { deployment, accessToken, enrol, leave, details, topics, enrolled };
}
