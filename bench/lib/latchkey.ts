import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad } from './load.js';

/** Seeding goes through the public API only, as a client would. */

const MAX_ATTEMPTS = 5;
let callTimeoutMs = 30_000;
/** Cluster keys created at once while seeding. */
let clusterKeySeedConcurrency = 16;

/**
 * Servers under valgrind take minutes for what takes a second (an organization's first RSA signing
 * key), and many transactions at once outwait the store's 2-second connect timeout there.
 */
export function allowSlowCalls(): void {
  callTimeoutMs = 15 * 60_000;
  clusterKeySeedConcurrency = 1;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what} answered ${status}: ${body.slice(0, 500)}`);
  }
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
export const bearer = (token: string) => `Bearer ${token}`;

/** One JSON call; 429 and 503 are retried after their Retry-After (bounded). */
export async function call<T>(baseUrl: string, method: string, path: string, authorization: string | undefined, body?: unknown): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(authorization ? { authorization } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(callTimeoutMs),
    });
    const text = await response.text();
    if ((response.status === 429 || response.status === 503) && attempt < MAX_ATTEMPTS) {
      await sleep(Math.min(5, Number(response.headers.get('retry-after')) || 1) * 1000);
      continue;
    }
    if (!response.ok) throw new ApiError(response.status, text, `${method} ${path}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

/** Runs fn over items with at most `concurrency` calls in flight. */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

export interface CreatedKey {
  id: string;
  secret: string;
}

/** An organization ready for the benchmark: a caller with OrganizationAdmin + Verifier, and key owners. */
export interface BenchOrg {
  orgId: string;
  environmentId: string;
  resourceId: string;
  /** Service accounts that own the benchmark's keys, used in turn. */
  ownerIds: string[];
  callerId: string;
  callerKey: CreatedKey;
  /** Authorization header of the caller's cloud key. */
  auth: string;
}

export async function setUpOrg(baseUrl: string, rootToken: string, name: string, owners: number): Promise<BenchOrg> {
  const root = bearer(rootToken);
  const org = await call<{ id: string }>(baseUrl, 'POST', '/v1/orgs', root, { name, display_name: `Benchmark ${name}` });
  const base = `/v1/orgs/${org.id}`;
  const environment = await call<{ id: string }>(baseUrl, 'POST', `${base}/environments`, root, { display_name: 'bench' });
  const resource = await call<{ id: string }>(baseUrl, 'POST', `${base}/resources`, root, {
    kind: 'kafka_cluster',
    display_name: 'bench-cluster',
    environment_id: environment.id,
    cloud: 'aws',
    region: 'us-east-2',
  });
  const caller = await call<{ id: string }>(baseUrl, 'POST', `${base}/service-accounts`, root, { display_name: 'bench-caller' });
  const ownerAccounts = await mapLimit(
    Array.from({ length: owners }, (_, i) => i),
    8,
    (i) => call<{ id: string }>(baseUrl, 'POST', `${base}/service-accounts`, root, { display_name: `bench-key-owner-${i}` }),
  );
  for (const role of ['OrganizationAdmin', 'Verifier']) {
    await call(baseUrl, 'POST', `${base}/role-bindings`, root, { principal: caller.id, role, scope: { type: 'organization' } });
  }
  const callerKey = await call<CreatedKey>(baseUrl, 'POST', `${base}/api-keys`, root, {
    owner: caller.id,
    scope: { type: 'cloud' },
    display_name: 'bench-caller',
  });
  return {
    orgId: org.id,
    environmentId: environment.id,
    resourceId: resource.id,
    ownerIds: ownerAccounts.map((owner) => owner.id),
    callerId: caller.id,
    callerKey: { id: callerKey.id, secret: callerKey.secret },
    auth: basic(callerKey.id, callerKey.secret),
  };
}

/** One create request per owner, to be sent in turn. */
export function createKeyBodies(org: BenchOrg, displayName: string, owners = org.ownerIds.length): string[] {
  return org.ownerIds.slice(0, owners).map((owner) => createKeyBody(org, owner, displayName));
}

function createKeyBody(org: BenchOrg, owner: string, displayName: string): string {
  return JSON.stringify({
    owner,
    scope: { type: 'resource', resource_id: org.resourceId },
    display_name: displayName,
  });
}

/** A pulsar_cluster in the benchmark org's environment, for cluster keys. */
export async function setUpPulsarCluster(baseUrl: string, org: BenchOrg): Promise<string> {
  const resource = await call<{ id: string }>(baseUrl, 'POST', `/v1/orgs/${org.orgId}/resources`, org.auth, {
    kind: 'pulsar_cluster',
    display_name: `bench-pulsar-${Date.now().toString(36)}`,
    environment_id: org.environmentId,
  });
  return resource.id;
}

/** Creates `count` cluster keys (signed JWTs) for the org's owners in turn; returns their tokens. */
export async function seedClusterKeys(baseUrl: string, org: BenchOrg, clusterId: string, count: number, label: string): Promise<string[]> {
  return mapLimit(
    Array.from({ length: count }, (_, i) => i),
    clusterKeySeedConcurrency,
    async (i) => {
      const key = await call<{ token: string }>(baseUrl, 'POST', `/v1/orgs/${org.orgId}/cluster-keys`, org.auth, {
        name: `${label}-${i}`,
        owner: org.ownerIds[i % org.ownerIds.length],
        cluster_id: clusterId,
      });
      return key.token;
    },
  );
}

export const verifyClusterKeyBody = (token: string, clusterId: string) => JSON.stringify({ token, cluster_id: clusterId });

const SEED_CONNECTIONS = 32;
const SEED_ROUNDS = 4;

/**
 * Creates `count` resource keys through POST /api-keys with many requests in flight (autocannon,
 * like the load itself), for the org's owners in turn. Returns the keys when `capture` is set (the
 * secrets are only in the 201s). With a budget, stops when it runs out and says how far it got.
 */
export async function seedKeys(
  baseUrl: string,
  org: BenchOrg,
  count: number,
  options: { capture: boolean; label: string; budgetSeconds?: number },
): Promise<{ keys: CreatedKey[]; created: number }> {
  const captured: CreatedKey[] = [];
  let created = 0;
  const deadline = Date.now() + (options.budgetSeconds ?? Infinity) * 1000;
  for (let round = 0; round < SEED_ROUNDS && created < count && Date.now() < deadline; round++) {
    const missing = count - created;
    // Generous bound without a budget: even 20 keys/s finishes.
    const bound = Math.ceil(missing / 20) + 30;
    const result = await runLoad({
      title: `seed ${options.label}`,
      baseUrl,
      method: 'POST',
      headers: { authorization: org.auth },
      paths: [`/v1/orgs/${org.orgId}/api-keys`],
      bodies: createKeyBodies(org, options.label),
      connections: Math.min(SEED_CONNECTIONS, missing),
      amount: missing,
      durationSeconds: bound,
      maxSeconds: Math.min(bound, Math.max(1, (deadline - Date.now()) / 1000)),
      classify: (status, body) => {
        if (status !== 201) return status === 503 || status === 429 ? 'intended' : 'error';
        if (options.capture) {
          const key = JSON.parse(body) as CreatedKey;
          captured.push({ id: key.id, secret: key.secret });
        }
        created++;
        return 'ok';
      },
    });
    if (result.errors > 0) throw new Error(`seeding ${options.label}: ${result.errors} errors, first: ${result.firstError}`);
  }
  if (created < count && options.budgetSeconds === undefined) throw new Error(`seeding ${options.label}: only ${created} of ${count} keys created`);
  return { keys: captured, created };
}

export function verifyBody(key: CreatedKey, resourceId: string): string {
  return JSON.stringify({ key: key.id, secret: key.secret, resource_id: resourceId });
}

interface VerifyAnswer {
  valid: boolean;
  code: string;
}

async function verifyOnce(baseUrl: string, auth: string, key: CreatedKey, resourceId: string): Promise<VerifyAnswer> {
  return call<VerifyAnswer>(baseUrl, 'POST', '/v1/verify/api-key', auth, JSON.parse(verifyBody(key, resourceId)));
}

/** Verifies every key once (cache misses: one argon2 each) so that later verifications are hits. */
export async function warmCache(baseUrl: string, auth: string, keys: readonly CreatedKey[], resourceId: string): Promise<void> {
  const answers = await mapLimit(keys, 8, (key) => verifyOnce(baseUrl, auth, key, resourceId));
  const invalid = answers.filter((answer) => !answer.valid);
  if (invalid.length > 0) throw new Error(`${invalid.length} of ${keys.length} fresh keys did not verify (first: ${invalid[0]!.code})`);
}

/** A fluvio_cluster in the bench organization, for the access-key scenarios. */
export async function createFluvioCluster(baseUrl: string, rootToken: string, org: BenchOrg): Promise<string> {
  const cluster = await call<{ id: string }>(baseUrl, 'POST', `/v1/orgs/${org.orgId}/resources`, bearer(rootToken), {
    kind: 'fluvio_cluster',
    display_name: 'bench-fluvio',
    environment_id: org.environmentId,
  });
  return cluster.id;
}

/** `count` simple access keys on the topic `orders`, created in parallel through the API; returns the keys. */
export async function seedAccessKeys(
  baseUrl: string,
  org: BenchOrg,
  clusterId: string,
  count: number,
  label: string,
  keyFilterRemote?: string,
): Promise<string[]> {
  const created = await mapLimit(
    Array.from({ length: count }, (_, i) => i),
    16,
    (i) =>
      call<{ key: string }>(baseUrl, 'POST', `/v1/orgs/${org.orgId}/resources/${clusterId}/access-keys`, org.auth, {
        name: `${label}-${i}`,
        topic: 'orders',
        ...(keyFilterRemote ? { consume: true, key_filter_remote: keyFilterRemote } : {}),
      }),
  );
  return created.map((answer) => answer.key);
}

export function verifyAccessKeyBody(key: string, clusterId: string, params?: Record<string, string>): string {
  return JSON.stringify({ access_key: key, cluster_id: clusterId, operation: 'consume', topic: 'orders', ...(params ? { params } : {}) });
}
