import { createHmac, randomBytes } from 'node:crypto';
import type { SecretHasher } from '../../crypto/hashing.js';
import type { ApiKeyScope } from '../api-keys/schemas.js';
import { scopeOf } from '../api-keys/schemas.js';
import type { Db } from '../../store/index.js';

/** What a matched secret tells us about its key; kept in memory so repeat verifications skip argon2. */
export interface MatchedKey {
  keyId: string;
  orgId: string;
  type: 'cloud' | 'resource' | 'flink';
  scope: ApiKeyScope;
  principal: { id: string; type: 'service_account' | 'user' };
  expiresAt: Date | null;
  /** The secret generation that matched: the key's current one, or the one before during a grace. */
  secretGeneration: number;
}

export type SecretCheck =
  | { outcome: 'matched'; key: MatchedKey }
  /** The secret matched a revoked key: only this may be told apart from INVALID, and only within its org. */
  | { outcome: 'revoked'; orgId: string }
  | { outcome: 'invalid' }
  /** Not in the cache, and the caller is over its failure limit: no database or argon2 work was done. */
  | { outcome: 'throttled' };

interface CacheEntry {
  key: MatchedKey;
  until: number;
}

export interface VerifierOptions {
  cacheSize: number;
  cacheTtlMs: number;
  /** False while revocations may be missed (the invalidation listener is down): nothing is served from or added to the cache. */
  cacheUsable?: () => boolean;
}

/**
 * The verification core shared by /v1/verify/api-key, Basic authentication and /oauth2/token.
 *
 * Results are cached under HMAC(pepper, key id + secret), never under the secret itself, with a
 * per-process random pepper. Concurrent misses of the same credential share one argon2 run.
 * Invalidations (revoke, rotate, delete; from this replica or others through NOTIFY) drop every
 * entry of the key and end its loads in flight for newcomers; a load that raced with an
 * invalidation is answered to those who started or joined it before, but not cached.
 * Entries past their TTL no longer answer, but stay (bounded by the cache size) as the mark that
 * lets a throttled caller re-check a secret that matched before.
 */
export class ApiKeyVerifier {
  readonly #pepper = randomBytes(32);
  readonly #cache = new Map<string, CacheEntry>();
  readonly #digestsByKey = new Map<string, Set<string>>();
  /** Loads under way, by digest. A flight is removed when its key is invalidated, so nobody joins it after. */
  readonly #inFlight = new Map<string, { keyId: string; load: Promise<SecretCheck> }>();
  #epoch = 0;
  /** Cache answers and misses, read by the metrics scrape. */
  readonly stats = { hits: 0, misses: 0 };

  constructor(
    private readonly db: Db,
    private readonly hasher: SecretHasher,
    private readonly options: VerifierOptions,
  ) {}

  /**
   * `throttled`: the caller is over a failure limit. A failure limit slows down failures and never
   * refuses the right secret, so a throttled caller still gets cached matches, joins loads in
   * flight, and may re-check a secret that matched here before and was not invalidated since (its
   * entry aged out of the TTL but is kept as a "known good" mark). Anything else answers
   * `throttled` without database or argon2 work, so guesses buy the attacker nothing.
   */
  check(keyId: string, secret: string, throttled = false): Promise<SecretCheck> {
    const digest = createHmac('sha256', this.#pepper).update(keyId).update('\0').update(secret).digest('base64url');
    const usable = this.options.cacheUsable?.() ?? true;
    const hit = usable ? this.#cache.get(digest) : undefined;
    if (hit && hit.until > Date.now()) {
      this.stats.hits++;
      return Promise.resolve({ outcome: 'matched', key: hit.key });
    }
    this.stats.misses++;
    const running = this.#inFlight.get(digest);
    if (running) return running.load;
    if (throttled && !hit) return Promise.resolve({ outcome: 'throttled' });
    const flight = {
      keyId,
      load: this.#load(digest, keyId, secret).finally(() => {
        if (this.#inFlight.get(digest) === flight) this.#inFlight.delete(digest);
      }),
    };
    this.#inFlight.set(digest, flight);
    return flight.load;
  }

  invalidate(keyIds: Iterable<string>): void {
    this.#epoch++;
    const invalidated = new Set(keyIds);
    for (const keyId of invalidated) {
      const digests = this.#digestsByKey.get(keyId);
      if (!digests) continue;
      for (const digest of digests) this.#cache.delete(digest);
      this.#digestsByKey.delete(keyId);
    }
    // A load that started before the invalidation may have read the old row: later requests start their own.
    for (const [digest, flight] of this.#inFlight) if (invalidated.has(flight.keyId)) this.#inFlight.delete(digest);
  }

  /** Forget everything, e.g. after the invalidation listener lost notifications. */
  clear(): void {
    this.#epoch++;
    this.#cache.clear();
    this.#digestsByKey.clear();
    this.#inFlight.clear();
  }

  get size(): number {
    return this.#cache.size;
  }

  async #load(digest: string, keyId: string, secret: string): Promise<SecretCheck> {
    const result = await this.#loadRow(digest, keyId, secret);
    // An aged-out entry marks a secret that matched before; one that no longer matches loses the mark.
    if (result.outcome !== 'matched' && this.#cache.has(digest)) this.#drop(digest, keyId);
    return result;
  }

  async #loadRow(digest: string, keyId: string, secret: string): Promise<SecretCheck> {
    const epoch = this.#epoch;
    const row = await this.db.apiKey.findUnique({ where: { id: keyId }, include: { owner: { select: { id: true, kind: true } } } });
    if (!row) return { outcome: 'invalid' };

    const now = Date.now();
    let previousSecretUntil: number | undefined;
    const current = await this.hasher.verify(row.secretHash, secret);
    if (!current.ok) {
      const previousValid = row.previousSecretHash && row.previousSecretExpiresAt && row.previousSecretExpiresAt.getTime() > now;
      if (!previousValid || !(await this.hasher.verify(row.previousSecretHash!, secret)).ok) return { outcome: 'invalid' };
      previousSecretUntil = row.previousSecretExpiresAt!.getTime();
    }
    if (row.status === 'revoked') return { outcome: 'revoked', orgId: row.orgId };
    if (current.ok && current.needsRehash) this.#upgradeHash(keyId, row.secretHash, secret);

    const key: MatchedKey = {
      keyId,
      orgId: row.orgId,
      type: row.type,
      scope: scopeOf(row),
      principal: { id: row.owner.id, type: row.owner.kind },
      expiresAt: row.expiresAt,
      secretGeneration: previousSecretUntil === undefined ? row.secretGeneration : row.secretGeneration - 1,
    };
    if (epoch === this.#epoch && (this.options.cacheUsable?.() ?? true)) this.#remember(digest, key, Math.min(now + this.options.cacheTtlMs, previousSecretUntil ?? Infinity));
    return { outcome: 'matched', key };
  }

  #remember(digest: string, key: MatchedKey, until: number): void {
    if (this.options.cacheSize === 0) return;
    while (this.#cache.size >= this.options.cacheSize) {
      // Map iteration is insertion order: the first entry is the oldest.
      const [oldest, entry] = this.#cache.entries().next().value as [string, CacheEntry];
      this.#drop(oldest, entry.key.keyId);
    }
    this.#cache.set(digest, { key, until });
    let digests = this.#digestsByKey.get(key.keyId);
    if (!digests) {
      digests = new Set();
      this.#digestsByKey.set(key.keyId, digests);
    }
    digests.add(digest);
  }

  #drop(digest: string, keyId: string): void {
    this.#cache.delete(digest);
    const digests = this.#digestsByKey.get(keyId);
    digests?.delete(digest);
    if (digests?.size === 0) this.#digestsByKey.delete(keyId);
  }

  /** Argon2 parameters changed: replace the hash, unless a rotation replaced it meanwhile. */
  #upgradeHash(keyId: string, oldHash: string, secret: string): void {
    void this.hasher
      .hash(secret)
      .then((secretHash) => this.db.apiKey.updateMany({ where: { id: keyId, secretHash: oldHash }, data: { secretHash } }))
      .catch(() => undefined);
  }
}
