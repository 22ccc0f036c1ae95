import type { Store, Tx } from './index.js';
import { type CredentialKind, InvalidationBus } from './invalidation.js';

export type Invalidate = (kind: CredentialKind, ids: string[]) => void;

/**
 * A transaction that may revoke cached credentials. Ids handed to `invalidate` are announced with
 * pg_notify inside the transaction (other replicas hear of them only if it commits) and dropped
 * from this replica's caches right after the commit, before the caller answers.
 */
export async function runMutation<T>(store: Store, work: (tx: Tx, invalidate: Invalidate) => Promise<T>): Promise<T> {
  const pending = new Map<CredentialKind, string[]>();
  const invalidate: Invalidate = (kind, ids) => {
    if (ids.length === 0) return;
    const list = pending.get(kind) ?? [];
    list.push(...ids);
    pending.set(kind, list);
  };
  const result = await store.prisma.$transaction(async (tx) => {
    const value = await work(tx, invalidate);
    for (const [kind, ids] of pending) {
      for (const notification of InvalidationBus.notifications(kind, ids)) {
        await tx.$executeRawUnsafe(notification.sql, ...notification.params);
      }
    }
    return value;
  });
  for (const [kind, ids] of pending) store.bus.deliver({ kind, ids });
  return result;
}
