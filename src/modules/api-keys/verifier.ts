import type { SecretHasher } from '../../crypto/hashing.js';
import { isWellFormedSecret, SecretPrefix } from '../../crypto/tokens.js';
import type { Eventually } from '../../lib/eventually.js';
import { VerifyCache } from '../../lib/verify-cache.js';
import type { Db } from '../../store/index.js';
import type { ApiKeyScope } from '../api-keys/schemas.js';
import { scopeOf } from '../api-keys/schemas.js';

/** What a matched secret tells us about its key; kept in memory so repeat verifications skip argon2. */
export interface MatchedKey {
  keyId: string;
  orgId: string;
  type: 'cloud' | 'resource' | 'flink';
  scope: ApiKeyScope;
  principal: { id: string; type: 'service_account' | 'user' };
  expiresAt: Date | null;
  /** Absent: the entry lasts the cache TTL. Set: the previous secret of a rotated key, valid until then. */
  previousSecretUntil: number | undefined;
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

const THROTTLED: SecretCheck = { outcome: 'throttled' };
const INVALID: SecretCheck = { outcome: 'invalid' };

export interface VerifierOptions {
  cacheSize: number;
  cacheTtlMs: number;
  /** False while revocations may be missed (the invalidation listener is down): nothing is served from or added to the cache. */
  cacheUsable?: () => boolean;
}

/**
 * The verification core shared by /v1/verify/api-key, Basic authentication and /oauth2/token.
 *
 * Results are cached under a digest of the key id and secret with a per-process random pepper
 * (VerifyCache.keyOf), never under the secret itself. Concurrent misses of the same credential share one argon2 run.
 * Invalidations (revoke, rotate, delete; from this replica or others through NOTIFY) drop every
 * entry of the key and end its loads in flight for newcomers; a load that raced with an
 * invalidation is answered to those who started or joined it before, but not cached.
 * Entries past their TTL no longer answer, but stay (bounded by the cache size) as the mark that
 * lets a throttled caller re-check a secret that matched before.
 */
export class ApiKeyVerifier {
  readonly #cache: VerifyCache<MatchedKey>;
  /** Cache answers and misses, read by the metrics scrape. */
  readonly stats: VerifyCache<MatchedKey>['stats'];

  constructor(
    private readonly db: Db,
    private readonly hasher: SecretHasher,
    options: VerifierOptions,
  ) {
    this.#cache = new VerifyCache({
      max: options.cacheSize,
      ttlMs: options.cacheTtlMs,
      idOf: (key) => key.keyId,
      usable: options.cacheUsable,
      keepAgedOut: true,
    });
    this.stats = this.#cache.stats;
  }

  /**
   * `throttled`: the caller is over a failure limit. A failure limit slows down failures and never
   * refuses the right secret, so a throttled caller still gets cached matches, joins loads in
   * flight, and may re-check a secret that matched here before and was not invalidated since (its
   * entry aged out of the TTL but is kept as a "known good" mark). Anything else answers
   * `throttled` without database or argon2 work, so guesses buy the attacker nothing.
   */
  check(keyId: string, secret: string, throttled = false): Eventually<SecretCheck> {
    const digest = this.#cache.keyOf(keyId, secret);
    return this.#cache.check(digest, keyId, throttled, {
      hit: (key) => ({ outcome: 'matched', key }),
      // A secret we could not have issued is invalid without any work. The checksum is computed
      // before a load only: a cached digest is one of a secret that matched.
      precheck: () => (isWellFormedSecret(SecretPrefix.apiKey, secret) ? undefined : INVALID),
      throttled: () => THROTTLED,
      load: (remember) => this.#loadRow(keyId, secret, remember),
    });
  }

  /** See VerifyCache.generation. */
  get generation(): number {
    return this.#cache.generation;
  }

  invalidate(keyIds: Iterable<string>): void {
    this.#cache.invalidate(keyIds);
  }

  /** Forget everything, e.g. after the invalidation listener lost notifications. */
  clear(): void {
    this.#cache.clear();
  }

  get size(): number {
    return this.#cache.size;
  }

  async #loadRow(keyId: string, secret: string, remember: (key: MatchedKey, until?: number) => void): Promise<SecretCheck> {
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
      previousSecretUntil,
      secretGeneration: previousSecretUntil === undefined ? row.secretGeneration : row.secretGeneration - 1,
    };
    remember(key, previousSecretUntil);
    return { outcome: 'matched', key };
  }

  /** Argon2 parameters changed: replace the hash, unless a rotation replaced it meanwhile. */
  #upgradeHash(keyId: string, oldHash: string, secret: string): void {
    void this.hasher
      .hash(secret)
      .then((secretHash) => this.db.apiKey.updateMany({ where: { id: keyId, secretHash: oldHash }, data: { secretHash } }))
      .catch(() => undefined);
  }
}
