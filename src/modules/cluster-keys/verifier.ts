import { compactVerify, decodeProtectedHeader, type ProtectedHeaderParameters } from 'jose';
import { andThen, type Eventually } from '../../lib/eventually.js';
import { VerifyCache } from '../../lib/verify-cache.js';
import type { Db } from '../../store/index.js';
import { CLUSTER_KEY_ALGORITHMS, type ClusterSigningKeys } from './signing-keys.js';

/** What a token whose signature and claims checked out says; kept in memory so repeats skip the signature. */
export interface VerifiedClusterKey {
  jti: string;
  orgId: string;
  name: string;
  /** Owner id (the Pulsar role). */
  sub: string;
  /** Cluster id. */
  aud: string;
  /** Seconds since the epoch; null: never expires. */
  exp: number | null;
  /** `exp` as the answer's ISO 8601 `expires_at`, formatted once when the token is first verified. */
  expiresAt: string | null;
  nbf: number | null;
}

export type TokenCheck =
  | { outcome: 'verified'; key: VerifiedClusterKey }
  /** Genuine, but expired so long ago that its row is gone. */
  | { outcome: 'expired'; orgId: string }
  | { outcome: 'invalid' };

const INVALID: TokenCheck = { outcome: 'invalid' };
const JTI_RE = /^ck-[a-z0-9]{1,64}$/;

export interface ClusterKeyVerifierOptions {
  cacheSize: number;
  cacheTtlMs: number;
  /** `<public url>`: a token's iss must be `<public url>/v1/orgs/<its org>`. */
  publicUrl: string;
  /**
   * False while revocations may be missed (the invalidation listener is down): no token is served
   * from or added to the cache, and revocation is read from the store on every check.
   */
  cacheUsable?: () => boolean;
}

/**
 * The cluster-key verification core, shaped like the API key verifier: a bounded cache keyed by an
 * peppered digest of the token (VerifyCache.keyOf), a cold path (one signature check and one row read), and invalidation through
 * the bus. Revocation is not cached with a token: every answer consults the per-organization
 * revocation set, which every revocation (here or on another replica) drops, so it beats the cache;
 * `clear()` (on 'all', i.e. a lost or re-established listener) drops every set so they are reloaded.
 */
export class ClusterKeyVerifier {
  readonly #cache: VerifyCache<VerifiedClusterKey>;
  readonly #revoked = new Map<string, Set<string> | Promise<Set<string>>>();
  /** Cache answers and misses, read by the metrics scrape. */
  readonly stats: VerifyCache<VerifiedClusterKey>['stats'];

  constructor(
    private readonly db: Db,
    private readonly keys: ClusterSigningKeys,
    private readonly options: ClusterKeyVerifierOptions,
  ) {
    this.#cache = new VerifyCache({ max: options.cacheSize, ttlMs: options.cacheTtlMs, idOf: (key) => key.jti, usable: options.cacheUsable });
    this.stats = this.#cache.stats;
  }

  /**
   * Concurrent checks of one token share one signature check and row read. The jti is known only
   * once the token is read, so every invalidation ends the loads in flight for newcomers.
   */
  check(token: string): Eventually<TokenCheck> {
    const digest = this.#cache.keyOf(token);
    return this.#cache.check(digest, undefined, false, {
      hit: (key) => ({ outcome: 'verified', key }),
      throttled: () => INVALID,
      load: (remember) => this.#load(token, remember),
    });
  }

  /**
   * Whether the organization revoked the key; the set is loaded once and dropped on every
   * revocation. Answered synchronously once the organization's set is loaded.
   */
  isRevoked(orgId: string, jti: string): Eventually<boolean> {
    if (!this.#usable()) {
      // A revocation may have been missed: ask the store, and keep nothing.
      return this.db.clusterKey.findFirst({ where: { id: jti, orgId, revokedAt: { not: null } }, select: { id: true } }).then((row) => row !== null);
    }
    let set = this.#revoked.get(orgId);
    if (!set) {
      const loading = this.db.clusterKey
        .findMany({ where: { orgId, revokedAt: { not: null } }, select: { id: true } })
        .then((rows) => new Set(rows.map((row) => row.id)));
      // Once loaded, the set itself replaces the load (unless a revocation dropped it meanwhile).
      loading.then(
        (loaded) => {
          if (this.#revoked.get(orgId) === loading) this.#revoked.set(orgId, loaded);
        },
        () => {
          if (this.#revoked.get(orgId) === loading) this.#revoked.delete(orgId);
        },
      );
      set = loading;
      this.#revoked.set(orgId, set);
    }
    return andThen(set, (revoked) => revoked.has(jti));
  }

  /** Revoked or deleted keys: their cached tokens and every revocation set are dropped. */
  invalidate(jtis: Iterable<string>): void {
    this.#revoked.clear();
    this.#cache.invalidate(jtis);
  }

  clear(): void {
    this.#revoked.clear();
    this.#cache.clear();
    this.keys.clear();
  }

  get size(): number {
    return this.#cache.size;
  }

  async #load(token: string, remember: (key: VerifiedClusterKey) => void): Promise<TokenCheck> {
    let header: ProtectedHeaderParameters;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return INVALID;
    }
    // Only our algorithms and our typ: alg:none and HS256-with-the-public-key never reach a key.
    const alg = header.alg;
    if (typeof alg !== 'string' || !(CLUSTER_KEY_ALGORITHMS as readonly string[]).includes(alg)) return INVALID;
    if (header.typ !== 'JWT' || typeof header.kid !== 'string') return INVALID;
    const signingKey = await this.keys.publicKey(header.kid);
    if (!signingKey || signingKey.alg !== alg) return INVALID;

    let payload: Uint8Array;
    try {
      ({ payload } = await compactVerify(token, signingKey.key, { algorithms: [signingKey.alg] }));
    } catch {
      return INVALID;
    }
    let claims: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return INVALID;
      claims = parsed as Record<string, unknown>;
    } catch {
      return INVALID;
    }
    const { iss, sub, aud, jti, exp, nbf } = claims;
    const numberOrAbsent = (value: unknown) => value === undefined || (typeof value === 'number' && Number.isFinite(value));
    if (
      iss !== `${this.options.publicUrl}/v1/orgs/${signingKey.orgId}` ||
      typeof sub !== 'string' ||
      typeof aud !== 'string' ||
      typeof jti !== 'string' ||
      !JTI_RE.test(jti) ||
      !numberOrAbsent(exp) ||
      !numberOrAbsent(nbf)
    ) {
      return INVALID;
    }
    // Latchkey signs only expiries a Date can hold; anything else was never ours.
    const expiresAt = typeof exp === 'number' ? new Date(exp * 1000) : null;
    if (expiresAt && Number.isNaN(expiresAt.getTime())) return INVALID;
    const row = await this.db.clusterKey.findUnique({ where: { id: jti }, select: { orgId: true, name: true, kid: true } });
    if (!row || row.orgId !== signingKey.orgId || row.kid !== header.kid) {
      // Rows of revoked keys are removed only once they expired: a genuine token without a row is past its exp.
      if (typeof exp === 'number' && exp * 1000 <= Date.now()) return { outcome: 'expired', orgId: signingKey.orgId };
      return INVALID;
    }
    const key: VerifiedClusterKey = {
      jti,
      orgId: row.orgId,
      name: row.name,
      sub,
      aud,
      exp: typeof exp === 'number' ? exp : null,
      expiresAt: expiresAt?.toISOString() ?? null,
      nbf: typeof nbf === 'number' ? nbf : null,
    };
    remember(key);
    return { outcome: 'verified', key };
  }

  #usable(): boolean {
    return this.options.cacheUsable?.() ?? true;
  }
}
