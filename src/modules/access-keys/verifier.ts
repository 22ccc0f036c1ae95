import { createHmac, randomBytes } from 'node:crypto';
import type { SecretHasher } from '../../crypto/hashing.js';
import type { AccessKeyProtocol } from '../../generated/prisma/enums.js';
import type { Db } from '../../store/index.js';

/** What a matched access key tells us; kept in memory so repeat verifications skip argon2. */
export interface MatchedAccessKey {
  id: string;
  orgId: string;
  clusterId: string;
  name: string;
  protocol: AccessKeyProtocol;
  topic: string | null;
  consume: boolean;
  produce: boolean;
  keyFilterRemote: string | null;
}

export type AccessKeyCheck =
  | { outcome: 'matched'; key: MatchedAccessKey }
  | { outcome: 'invalid' }
  /** Not in the cache, and the caller is over its failure limit: no database or argon2 work was done. */
  | { outcome: 'throttled' };

interface CacheEntry {
  key: MatchedAccessKey;
  until: number;
}

export interface AccessKeyVerifierOptions {
  cacheSize: number;
  cacheTtlMs: number;
  /** False while revocations may be missed (the invalidation listener is down): nothing is served from or added to the cache. */
  cacheUsable?: () => boolean;
}

/**
 * The access-key half of the verification hot path, shaped like ApiKeyVerifier: results cached
 * under HMAC(per-process pepper, key), never under the key itself; concurrent misses of one key
 * share one argon2 run (through SecretHasher's concurrency cap); invalidations (rotate, delete,
 * cluster delete; from any replica through NOTIFY) drop every entry of the row, and a load that
 * raced with one is answered but not cached. The remote key filter is not fetched here, so a slow
 * remote never holds a hash slot. Entries past their TTL no longer answer, but stay (bounded by the
 * cache size) as the mark that lets a throttled caller re-check a key that matched before.
 */
export class AccessKeyVerifier {
  readonly #pepper = randomBytes(32);
  readonly #cache = new Map<string, CacheEntry>();
  readonly #digestsById = new Map<string, Set<string>>();
  /** Loads under way, by digest. A flight is removed when its row is invalidated, so nobody joins it after. */
  readonly #inFlight = new Map<string, { id: string; load: Promise<AccessKeyCheck> }>();
  #epoch = 0;
  /** Cache answers and misses, read by the metrics scrape. */
  readonly stats = { hits: 0, misses: 0 };

  constructor(
    private readonly db: Db,
    private readonly hasher: SecretHasher,
    private readonly options: AccessKeyVerifierOptions,
  ) {}

  /**
   * `throttled`: the caller is over a failure limit. As for API keys, a limit slows down failures
   * and never refuses a key known to be right: a throttled caller still gets cached matches, joins
   * loads in flight, and may re-check a key that matched here before and was not invalidated since.
   * Anything else answers `throttled` without database or argon2 work.
   */
  check(lookupId: string, key: string, throttled = false): Promise<AccessKeyCheck> {
    const digest = this.#digest(key);
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
      id: lookupId,
      load: this.#load(digest, lookupId, key).finally(() => {
        if (this.#inFlight.get(digest) === flight) this.#inFlight.delete(digest);
      }),
    };
    this.#inFlight.set(digest, flight);
    return flight.load;
  }

  invalidate(ids: Iterable<string>): void {
    this.#epoch++;
    const invalidated = new Set(ids);
    for (const id of invalidated) {
      const digests = this.#digestsById.get(id);
      if (!digests) continue;
      for (const digest of digests) this.#cache.delete(digest);
      this.#digestsById.delete(id);
    }
    // A load that started before the invalidation may have read the old row: later requests start their own.
    for (const [digest, flight] of this.#inFlight) if (invalidated.has(flight.id)) this.#inFlight.delete(digest);
  }

  /** Forget everything, e.g. after the invalidation listener lost notifications. */
  clear(): void {
    this.#epoch++;
    this.#cache.clear();
    this.#digestsById.clear();
    this.#inFlight.clear();
  }

  get size(): number {
    return this.#cache.size;
  }

  #digest(key: string): string {
    return createHmac('sha256', this.#pepper).update(key).digest('base64url');
  }

  async #load(digest: string, lookupId: string, key: string): Promise<AccessKeyCheck> {
    const result = await this.#loadRow(digest, lookupId, key);
    // An aged-out entry marks a key that matched before; one that no longer matches loses the mark.
    if (result.outcome !== 'matched' && this.#cache.has(digest)) this.#drop(digest, lookupId);
    return result;
  }

  async #loadRow(digest: string, lookupId: string, key: string): Promise<AccessKeyCheck> {
    const epoch = this.#epoch;
    const row = await this.db.accessKey.findUnique({ where: { id: lookupId } });
    if (!row) return { outcome: 'invalid' };
    const now = Date.now();
    let until = now + this.options.cacheTtlMs;
    const current = await this.hasher.verify(row.secretHash, key);
    if (!current.ok) {
      // The key a rotation replaced verifies until its grace ends, never beyond.
      const graceEnd = row.previousSecretHash && row.previousSecretExpiresAt ? row.previousSecretExpiresAt.getTime() : 0;
      if (graceEnd <= now || !(await this.hasher.verify(row.previousSecretHash!, key)).ok) return { outcome: 'invalid' };
      until = Math.min(until, graceEnd);
    }
    if (current.ok && current.needsRehash) this.#upgradeHash(row.id, row.secretHash, key);
    const matched: MatchedAccessKey = {
      id: row.id,
      orgId: row.orgId,
      clusterId: row.clusterId,
      name: row.name,
      protocol: row.protocol,
      topic: row.topic,
      consume: row.consume,
      produce: row.produce,
      keyFilterRemote: row.keyFilterRemote,
    };
    if (epoch === this.#epoch && (this.options.cacheUsable?.() ?? true)) this.#remember(digest, matched, until);
    return { outcome: 'matched', key: matched };
  }

  #remember(digest: string, key: MatchedAccessKey, until: number): void {
    if (this.options.cacheSize === 0) return;
    while (this.#cache.size >= this.options.cacheSize) {
      const [oldest, entry] = this.#cache.entries().next().value as [string, CacheEntry];
      this.#drop(oldest, entry.key.id);
    }
    this.#cache.set(digest, { key, until });
    let digests = this.#digestsById.get(key.id);
    if (!digests) {
      digests = new Set();
      this.#digestsById.set(key.id, digests);
    }
    digests.add(digest);
  }

  #drop(digest: string, id: string): void {
    this.#cache.delete(digest);
    const digests = this.#digestsById.get(id);
    digests?.delete(digest);
    if (digests?.size === 0) this.#digestsById.delete(id);
  }

  #upgradeHash(id: string, oldHash: string, key: string): void {
    void this.hasher
      .hash(key)
      .then((secretHash) => this.db.accessKey.updateMany({ where: { id, secretHash: oldHash }, data: { secretHash } }))
      .catch(() => undefined);
  }
}
