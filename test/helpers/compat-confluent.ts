import assert from 'node:assert/strict';
import { type TestApp, uniqueName } from './app.js';
import { createAsRoot, createCluster, createOrg, credentialFor } from './principals.js';

type Headers = Record<string, string>;

/** The Confluent IAM suites' shared setup; `app` returns the suite's running app. */
export function confluentFixtures(app: () => TestApp) {
  /** A fresh organization with a Kafka cluster, an OrganizationAdmin's cloud key and a service account to own keys. */
  async function setup() {
    const orgId = await createOrg(app());
    const { environmentId, resourceId } = await createCluster(app(), orgId);
    const admin = await credentialFor(app(), orgId, [{ role: 'OrganizationAdmin', scope: { type: 'organization' } }]);
    const owner = await createAsRoot(app(), `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName('owner') });
    return { orgId, environmentId, resourceId, admin: { authorization: admin.authorization }, adminId: admin.principalId, ownerId: owner.id as string };
  }

  const createKey = (headers: Headers, spec: object) => app().inject({ method: 'POST', url: '/iam/v2/api-keys', headers, payload: { spec } });
  const verify = (key: string, secret: string, resource_id: string) =>
    app().inject({ method: 'POST', url: '/v1/verify/api-key', headers: app().root, payload: { key, secret, resource_id } });

  /** Asserts Confluent's error shape and returns its errors. */
  function confluentErrors(res: { statusCode: number; headers: Record<string, unknown>; body: string; json(): any }, status: number) {
    assert.equal(res.statusCode, status, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const body = res.json();
    assert.deepEqual(Object.keys(body), ['errors']);
    assert.ok(body.errors.length > 0);
    for (const error of body.errors) {
      assert.equal(error.status, String(status));
      assert.equal(typeof error.code, 'string');
      assert.equal(typeof error.title, 'string');
      assert.equal(typeof error.detail, 'string');
      assert.equal(error.id, res.headers['x-request-id']);
    }
    return body.errors as Array<{ status: string; code: string; title: string; detail: string; source?: { pointer?: string; parameter?: string } }>;
  }

  return { setup, createKey, verify, confluentErrors };
}
