import { hash, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Eventually } from './eventually.js';

export interface VerifyCacheOptions<V> {
  /** Most entries kept (least recently used leave first); 0 keeps none. */
  max: number;
  /** How long an entry answers after it was stored; 0 or less: entries never answer (they may still mark a known-good secret). */
  ttlMs: number;
  /**
   * The credential an entry belongs to, for entries keyed by something else (a digest of the
   * secret): invalidations name credentials. Absent: entries are keyed by their credential's id.
   */
  idOf?: (value: V) => string;
  /** False while revocations may be missed (the invalidation listener is down): nothing is served from or added to the cache. */
  usable?: () => boolean;
  /**
   * Keep entries past their TTL (bounded by `max`) as the mark of a secret that matched before, so
   * that `check` lets a throttled caller re-check it. Without: an aged-out entry is dropped when read.
   */
  keepAgedOut?: boolean;
}

/**
 * SHA-256 of a secret pepper and NUL-joined parts, as 32 raw bytes in a one-byte string: how
 * presented secrets become lookup keys (VerifyCache.keyOf, the root token's check).
 */
export function pepperedDigest(pepper: string, parts: readonly string[]): string {
  return hash('sha256', `${pepper}\0${parts.join('\0')}`, 'binary');
}

/** How a verifier answers from the cache, and how it loads what the cache lacks. */
export interface CheckSteps<V, R> {
  /** The answer for a fresh cache entry. */
  hit(value: V): R;
  /**
   * Checked on a miss with no load in flight: an answer refuses the credential without any work
   * (a malformed secret) and counts no miss; undefined lets the check go on. A throttled caller
   * still gets `throttled()`. A hit or a load in flight needs no check, since only credentials
   * that passed it are ever stored or loaded.
   */
  precheck?(): R | undefined;
  /** The answer for a throttled caller whose secret is neither cached, marked nor in flight: no work done. */
  throttled(): R;
  /** Loads from the store; calls `remember` with what matched (anything else leaves no entry and drops an aged-out mark). */
  load(remember: (value: V, until?: number) => void): Promise<R>;
}

/**
 * The cache of every verification path (API keys, access keys, cluster keys, client details,
 * the actors behind cloud keys), on lru-cache for the bounded, TTL'd store. What lru-cache does
 * not express is kept here:
 *
 * - Invalidation by credential: entries are keyed by a peppered digest of the secret (`keyOf`),
 *   revocations name the credential, so an index from credential to keys (kept in step through lru-cache's `dispose`)
 *   drops every entry of a credential.
 * - An epoch bumped by every invalidation: a load that started before a revocation may have read
 *   the old row, so its answer is given to those who asked but not stored.
 * - Single-flight loading by hand, not lru-cache's `fetchMethod`: a load's answer must reach
 *   everyone who joined it even when it is not stored (INVALID, REVOKED), which `fetch` cannot
 *   return (it resolves to the stored value or undefined); a throttled caller may join a load in
 *   flight but not start one, which `fetch` cannot tell apart; and an invalidation must end a
 *   credential's loads for newcomers before their digests are in the index.
 * - `usable`: while the invalidation channel is unhealthy, nothing is served or stored.
 */
export class VerifyCache<V extends object> {
  readonly #entries: LRUCache<string, V> | undefined;
  readonly #keysById = new Map<string, Set<string>>();
  /** Loads under way, by cache key. A flight is removed when its credential is invalidated, so nobody joins it after. */
  readonly #inFlight = new Map<string, { id: string | undefined; load: Promise<unknown> }>();
  readonly #ttlMs: number;
  readonly #idOf: ((value: V) => string) | undefined;
  readonly #usable: () => boolean;
  #epoch = 0;
  /** Cache answers and misses, read by the metrics scrape. */
  readonly stats = { hits: 0, misses: 0 };
  /** Per process and cache, never stored: keys made of secrets mean nothing outside this process. */
  readonly #pepper = randomBytes(32).toString('base64');

  constructor(options: VerifyCacheOptions<V>) {
    this.#ttlMs = options.ttlMs;
    this.#idOf = options.idOf;
    this.#usable = options.usable ?? (() => true);
    const idOf = options.idOf;
    this.#entries =
      options.max > 0
        ? new LRUCache<string, V>({
            // Bounded by count through maxSize (each entry counts 1), not `max`: lru-cache allocates
            // its arrays for `max` entries up front (about 40 bytes each, 4 MB per 100,000), while
            // with maxSize they grow with what is actually cached.
            maxSize: options.max,
            sizeCalculation: () => 1,
            ttl: Math.max(options.ttlMs, 0),
            allowStale: false,
            noDeleteOnStaleGet: options.keepAgedOut ?? false,
            ...(idOf ? { dispose: (value: V, key: string) => this.#unindex(idOf(value), key) } : {}),
          })
        : undefined;
  }

  /**
   * The cache key of a presented credential: SHA-256 over the cache's secret pepper and the
   * credential's parts, NUL-separated (unambiguous as long as no part but the last holds a NUL:
   * callers pass ids only after matching them against their pattern), so no secret is ever held
   * as a key. A keyed lookup, not a MAC anyone can query, so the one-shot
   * hash serves where an HMAC would cost a context object per call (4 µs against 1 µs here). The
   * 32 digest bytes are kept as a one-byte string ('binary', i.e. latin1): a key is only compared.
   */
  keyOf(...parts: string[]): string {
    return pepperedDigest(this.#pepper, parts);
  }

  /** The fresh entry under `key`, counted as a hit or a miss. */
  get(key: string): V | undefined {
    const value = this.#usable() ? this.#fresh(key) : undefined;
    if (value === undefined) this.stats.misses++;
    else this.stats.hits++;
    return value;
  }

  /** The epoch to pass to `set`: a load that raced with an invalidation is not remembered. */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * A mark of what the cache answers: it changes with every invalidation, and reads -1 while the
   * cache serves nothing. An answer derived from the cache at one generation still holds while the
   * generation reads the same (and the answer's own TTL has not run out).
   */
  get generation(): number {
    return this.#usable() ? this.#epoch : -1;
  }

  /** Stores `value` until the TTL ends, or `until` (ms since the epoch) when that is sooner; not when `epoch` is stale. */
  set(key: string, value: V, epoch: number, until?: number): void {
    if (!this.#entries || epoch !== this.#epoch || !this.#usable()) return;
    let ttl: number | undefined;
    if (this.#ttlMs > 0) ttl = Math.max(1, Math.min(this.#ttlMs, until === undefined ? Infinity : until - Date.now()));
    this.#entries.set(key, value, ttl === undefined ? undefined : { ttl });
    if (this.#idOf) {
      const id = this.#idOf(value);
      let keys = this.#keysById.get(id);
      if (!keys) {
        keys = new Set();
        this.#keysById.set(id, keys);
      }
      keys.add(key);
    }
  }

  /**
   * The cache-first check of a verification. A fresh entry answers at once. Otherwise the caller
   * joins the load of the same key in flight, or starts one; a throttled caller starts one only
   * for a key an aged-out entry marks as known good, and otherwise gets `throttled()` at no cost.
   * `id`: the credential the key belongs to; undefined when it is known only once loaded (a
   * token's jti), and then every invalidation ends the load for newcomers. Answers without a load
   * (a hit, a refusal) are given synchronously.
   */
  check<R>(key: string, id: string | undefined, throttled: boolean, steps: CheckSteps<V, R>): Eventually<R> {
    const usable = this.#usable();
    const fresh = usable ? this.#fresh(key) : undefined;
    if (fresh !== undefined) {
      this.stats.hits++;
      return steps.hit(fresh);
    }
    const running = this.#inFlight.get(key);
    if (running) {
      this.stats.misses++;
      return running.load as Promise<R>;
    }
    const refused = steps.precheck?.();
    // A refused credential was never a question for the cache: it does not count as a miss.
    if (refused === undefined) this.stats.misses++;
    if (throttled && !(usable && this.#entries?.peek(key, { allowStale: true }) !== undefined)) return steps.throttled();
    if (refused !== undefined) return refused;
    const flight = {
      id,
      load: this.#load(key, steps).finally(() => {
        if (this.#inFlight.get(key) === flight) this.#inFlight.delete(key);
      }),
    };
    this.#inFlight.set(key, flight);
    return flight.load;
  }

  /** Drops every entry of these credentials and ends their loads in flight for newcomers. */
  invalidate(ids: Iterable<string>): void {
    this.#epoch++;
    const invalidated = new Set(ids);
    for (const id of invalidated) {
      if (!this.#idOf) {
        this.#entries?.delete(id);
        continue;
      }
      const keys = this.#keysById.get(id);
      if (!keys) continue;
      for (const key of [...keys]) this.#entries?.delete(key);
      this.#keysById.delete(id);
    }
    // A load that started before the invalidation may have read the old row: later requests start their own.
    for (const [key, flight] of this.#inFlight) if (flight.id === undefined || invalidated.has(flight.id)) this.#inFlight.delete(key);
  }

  /** Forget everything, e.g. after the invalidation listener lost notifications. */
  clear(): void {
    this.#epoch++;
    this.#entries?.clear();
    this.#keysById.clear();
    this.#inFlight.clear();
  }

  /** Entries held, aged-out marks included. */
  get size(): number {
    return this.#entries?.size ?? 0;
  }

  #fresh(key: string): V | undefined {
    return this.#ttlMs > 0 ? this.#entries?.get(key) : undefined;
  }

  async #load<R>(key: string, steps: CheckSteps<V, R>): Promise<R> {
    const epoch = this.#epoch;
    let matched = false;
    const result = await steps.load((value, until) => {
      matched = true;
      this.set(key, value, epoch, until);
    });
    // An aged-out entry marks a secret that matched before; one that no longer matches loses the mark.
    if (!matched) this.#entries?.delete(key);
    return result;
  }

  #unindex(id: string, key: string): void {
    const keys = this.#keysById.get(id);
    keys?.delete(key);
    if (keys?.size === 0) this.#keysById.delete(id);
  }
}
