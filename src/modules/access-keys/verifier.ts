import type { SecretHasher } from '../../crypto/hashing.js';
import type { AccessKeyProtocol } from '../../generated/prisma/enums.js';
import type { Eventually } from '../../lib/eventually.js';
import { VerifyCache } from '../../lib/verify-cache.js';
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

const THROTTLED: AccessKeyCheck = { outcome: 'throttled' };

export interface AccessKeyVerifierOptions {
  cacheSize: number;
  cacheTtlMs: number;
  /** False while revocations may be missed (the invalidation listener is down): nothing is served from or added to the cache. */
  cacheUsable?: () => boolean;
}

/**
 * The access-key half of the verification hot path, shaped like ApiKeyVerifier: results cached
 * under a peppered digest of the key (VerifyCache.keyOf), never under the key itself; concurrent misses of one key
 * share one argon2 run (through SecretHasher's concurrency cap); invalidations (rotate, delete,
 * cluster delete; from any replica through NOTIFY) drop every entry of the row, and a load that
 * raced with one is answered but not cached. The remote key filter is not fetched here, so a slow
 * remote never holds a hash slot. Entries past their TTL no longer answer, but stay (bounded by the
 * cache size) as the mark that lets a throttled caller re-check a key that matched before.
 */
export class AccessKeyVerifier {
  readonly #cache: VerifyCache<MatchedAccessKey>;
  /** Cache answers and misses, read by the metrics scrape. */
  readonly stats: VerifyCache<MatchedAccessKey>['stats'];

  constructor(
    private readonly db: Db,
    private readonly hasher: SecretHasher,
    options: AccessKeyVerifierOptions,
  ) {
    this.#cache = new VerifyCache({
      max: options.cacheSize,
      ttlMs: options.cacheTtlMs,
      idOf: (key) => key.id,
      usable: options.cacheUsable,
      keepAgedOut: true,
    });
    this.stats = this.#cache.stats;
  }

  /**
   * `throttled`: the caller is over a failure limit. As for API keys, a limit slows down failures
   * and never refuses a key known to be right: a throttled caller still gets cached matches, joins
   * loads in flight, and may re-check a key that matched here before and was not invalidated since.
   * Anything else answers `throttled` without database or argon2 work.
   */
  check(lookupId: string, key: string, throttled = false): Eventually<AccessKeyCheck> {
    const digest = this.#cache.keyOf(key);
    return this.#cache.check(digest, lookupId, throttled, {
      hit: (matched) => ({ outcome: 'matched', key: matched }),
      throttled: () => THROTTLED,
      load: (remember) => this.#loadRow(lookupId, key, remember),
    });
  }

  invalidate(ids: Iterable<string>): void {
    this.#cache.invalidate(ids);
  }

  /** Forget everything, e.g. after the invalidation listener lost notifications. */
  clear(): void {
    this.#cache.clear();
  }

  get size(): number {
    return this.#cache.size;
  }

  async #loadRow(lookupId: string, key: string, remember: (key: MatchedAccessKey, until?: number) => void): Promise<AccessKeyCheck> {
    const row = await this.db.accessKey.findUnique({ where: { id: lookupId } });
    if (!row) return { outcome: 'invalid' };
    const now = Date.now();
    let graceUntil: number | undefined;
    const current = await this.hasher.verify(row.secretHash, key);
    if (!current.ok) {
      // The key a rotation replaced verifies until its grace ends, never beyond.
      const graceEnd = row.previousSecretHash && row.previousSecretExpiresAt ? row.previousSecretExpiresAt.getTime() : 0;
      if (graceEnd <= now || !(await this.hasher.verify(row.previousSecretHash!, key)).ok) return { outcome: 'invalid' };
      graceUntil = graceEnd;
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
    remember(matched, graceUntil);
    return { outcome: 'matched', key: matched };
  }

  #upgradeHash(id: string, oldHash: string, key: string): void {
    void this.hasher
      .hash(key)
      .then((secretHash) => this.db.accessKey.updateMany({ where: { id, secretHash: oldHash }, data: { secretHash } }))
      .catch(() => undefined);
  }
}
