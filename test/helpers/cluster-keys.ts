import assert from 'node:assert/strict';
import { createHmac, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { open } from '../../src/crypto/envelope.js';
import { type TestApp, uniqueName } from './app.js';
import { createAsRoot, createCluster, createOrg } from './principals.js';

export const b64json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function decodeJwt(token: string) {
  const [h, p, s] = token.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>,
    signingInput: `${h}.${p}`,
    signature: Buffer.from(s, 'base64url'),
  };
}

/** Independent of our code: node:crypto checks the JWS signature (RS256 PKCS#1 v1.5, ES256 IEEE P1363). */
export function nodeVerifies(token: string, publicKey: KeyObject): boolean {
  const { header, signingInput, signature } = decodeJwt(token);
  const key = header.alg === 'ES256' ? { key: publicKey, dsaEncoding: 'ieee-p1363' as const } : publicKey;
  return verify('sha256', Buffer.from(signingInput), key, signature);
}

/** The organization's private signing key, unsealed the way the service does (the test master key). */
export async function privateSigningKey(t: TestApp, kid: string): Promise<KeyObject> {
  const row = await t.store.prisma.signingKey.findUniqueOrThrow({ where: { kid } });
  const jwk = JSON.parse(open(t.config.LATCHKEY_MASTER_KEY!, row.privateKeyEncrypted, `signing_key:cluster_key:${row.orgId}:${kid}`).toString('utf8'));
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

/** A token signed with a real key but claims of the test's choosing. */
export function signToken(header: Record<string, unknown>, payload: Record<string, unknown>, privateKey: KeyObject): string {
  const input = `${b64json(header)}.${b64json(payload)}`;
  const key = header.alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' as const } : privateKey;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

export function hs256(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = `${b64json(header)}.${b64json(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export const publicKeyFromJwk = (jwk: object) => createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' });

/** An organization's Pulsar cluster and a service account to own keys. */
export async function pulsarSetup(t: TestApp, orgId: string) {
  const { environmentId, resourceId } = await createCluster(t, orgId, 'pulsar_cluster');
  const owner = await createAsRoot(t, `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName('sa') });
  return { orgId, environmentId, clusterId: resourceId, ownerId: owner.id as string };
}

export async function createClusterKey(t: TestApp, orgId: string, payload: Record<string, unknown>, headers: Record<string, string> = t.root) {
  const res = await t.inject({ method: 'POST', url: `/v1/orgs/${orgId}/cluster-keys`, headers, payload: { name: uniqueName('ck'), ...payload } });
  assert.equal(res.statusCode, 201, res.body);
  return res.json() as Record<string, any>;
}

export async function verifyCode(t: TestApp, token: string, clusterId: string, headers: Record<string, string> = t.root): Promise<string> {
  const res = await t.inject({ method: 'POST', url: '/v1/verify/cluster-key', headers, payload: { token, cluster_id: clusterId } });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().code;
}

/** The cluster-key verification suites' shared setup; `app` returns the suite's running app. */
export function clusterKeyVerifyFixtures(app: () => TestApp) {
  async function keyAndForge() {
    const orgId = await createOrg(app());
    const setup = await pulsarSetup(app(), orgId);
    const key = await createClusterKey(app(), orgId, { owner: setup.ownerId, cluster_id: setup.clusterId });
    const { header, payload } = decodeJwt(key.token);
    const privateKey = await privateSigningKey(app(), header.kid as string);
    /** The key's own token with some claims changed, correctly signed with the organization's key. */
    const forge = (claims: Record<string, unknown>, headerChanges: Record<string, unknown> = {}) =>
      signToken({ ...header, ...headerChanges }, { ...payload, ...claims }, privateKey);
    return { ...setup, key, header, payload, forge };
  }

  return { keyAndForge };
}
