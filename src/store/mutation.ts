import { InvalidationBus } from './invalidation.js';
import type { Store, Tx } from './index.js';

/**
 * A transaction that may revoke cached credentials. Ids handed to `invalidate` are announced with
 * pg_notify inside the transaction (other replicas hear of them only if it commits) and dropped
 * from this replica's caches right after the commit, before the caller answers.
 */
export async function runMutation<T>(
  store: Store,
  work: (tx: Tx, invalidate: (apiKeyIds: string[]) => void) => Promise<T>,
): Promise<T> {
  const apiKeys: string[] = [];
  const result = await store.prisma.$transaction(async (tx) => {
    const value = await work(tx, (ids) => apiKeys.push(...ids));
    for (const notification of InvalidationBus.notifications(apiKeys)) {
      await tx.$executeRawUnsafe(notification.sql, ...notification.params);
    }
    return value;
  });
  if (apiKeys.length > 0) store.bus.deliver({ apiKeys });
  return result;
}
