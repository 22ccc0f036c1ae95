import type { Db } from './index.js';

/** What a create with an Idempotency-Key finds when it claims (scope, key). */
export type IdempotencyClaim =
  /** This request holds the claim and must complete or release it. */
  | { state: 'claimed' }
  /** An earlier request with the same fingerprint completed: its sealed response. */
  | { state: 'completed'; response: string }
  /** An earlier request with the same fingerprint still runs (or died less than a lease ago). */
  | { state: 'in_flight'; leaseUntil: Date }
  /** The key was used for another request (method, route, parameters or body). */
  | { state: 'reused' };

export interface ClaimRequest {
  scope: string;
  keyHash: string;
  fingerprint: string;
  /** Random per request: only the claiming request may complete or release the row. */
  owner: string;
  leaseMs: number;
  ttlMs: number;
}

/**
 * Claims (scope, key) for one request. The primary key decides between concurrent duplicates, on
 * one replica or many: the first INSERT wins and every other sees the row. A completed row past its
 * expiry, or an in-flight row whose lease ran out (its request died), is taken over by an UPDATE
 * whose condition Postgres re-checks under the row lock, so only one request takes it over.
 */
export async function claimIdempotencyKey(db: Db, request: ClaimRequest): Promise<IdempotencyClaim> {
  const { scope, keyHash, fingerprint, owner } = request;
  for (let attempt = 0; attempt < 3; attempt++) {
    const now = new Date();
    const fresh = {
      fingerprint,
      owner,
      completed: false,
      response: null,
      leaseUntil: new Date(now.getTime() + request.leaseMs),
      expiresAt: new Date(now.getTime() + request.ttlMs),
      createdAt: now,
    };
    const inserted = await db.idempotencyRecord.createMany({ data: [{ scope, keyHash, ...fresh }], skipDuplicates: true });
    if (inserted.count === 1) return { state: 'claimed' };

    const takenOver = await db.idempotencyRecord.updateMany({
      where: { scope, keyHash, OR: [{ expiresAt: { lte: now } }, { completed: false, leaseUntil: { lte: now } }] },
      data: fresh,
    });
    if (takenOver.count === 1) return { state: 'claimed' };

    const existing = await db.idempotencyRecord.findUnique({ where: { scope_keyHash: { scope, keyHash } } });
    // Released (its first attempt failed) between our INSERT and this read: try again.
    if (!existing) continue;
    if (existing.fingerprint !== fingerprint) return { state: 'reused' };
    if (existing.completed && existing.response !== null) return { state: 'completed', response: existing.response };
    return { state: 'in_flight', leaseUntil: existing.leaseUntil };
  }
  return { state: 'in_flight', leaseUntil: new Date() };
}

/** Stores the sealed response of a successful first attempt; later duplicates replay it. */
export async function completeIdempotencyKey(db: Db, claim: Pick<ClaimRequest, 'scope' | 'keyHash' | 'owner'>, response: string): Promise<void> {
  await db.idempotencyRecord.updateMany({
    where: { scope: claim.scope, keyHash: claim.keyHash, owner: claim.owner, completed: false },
    data: { completed: true, response },
  });
}

/** Forgets a claim whose request failed (4xx or 5xx): the same key may be retried. */
export async function releaseIdempotencyKey(db: Db, claim: Pick<ClaimRequest, 'scope' | 'keyHash' | 'owner'>): Promise<void> {
  await db.idempotencyRecord.deleteMany({ where: { scope: claim.scope, keyHash: claim.keyHash, owner: claim.owner, completed: false } });
}

/** Deletes records past their expiry; returns how many. */
export async function purgeExpiredIdempotencyRecords(db: Db, now = new Date()): Promise<number> {
  return (await db.idempotencyRecord.deleteMany({ where: { expiresAt: { lte: now } } })).count;
}
