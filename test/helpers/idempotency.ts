import { createHash, randomBytes } from 'node:crypto';
import { type TestApp, uniqueName } from './app.js';
import { createAsRoot, createOrg } from './principals.js';

/** A fresh Idempotency-Key. */
export const newKey = () => `ci-run-${randomBytes(12).toString('hex')}`;
/** The key as the store keeps it. */
export const keyHash = (key: string) => createHash('sha256').update(key).digest('hex');

/** The Idempotency-Key suites' shared setup; `app` returns the suite's running app. */
export function idempotencyFixtures(app: () => TestApp) {
  async function orgWithOwner() {
    const orgId = await createOrg(app());
    const owner = await createAsRoot(app(), `/v1/orgs/${orgId}/service-accounts`, { display_name: uniqueName('sa') });
    return { orgId, ownerId: owner.id as string };
  }
  const createKey = (orgId: string, payload: object, key: string, headers: Record<string, string> = app().root) =>
    app().inject({ method: 'POST', url: `/v1/orgs/${orgId}/api-keys`, headers: { ...headers, 'idempotency-key': key }, payload });
  const keysOf = (ownerId: string) => app().store.prisma.apiKey.count({ where: { ownerId } });
  const recordsOf = (scope: string, key: string) => app().store.prisma.idempotencyRecord.count({ where: { scope, keyHash: keyHash(key) } });

  return { orgWithOwner, createKey, keysOf, recordsOf };
}
