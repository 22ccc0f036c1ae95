/**
 * Fixed-window counters per key (client address, key id), bounded in size. Kept per replica:
 * a limit of N per minute means at most N × replicas across the fleet, which is the trade the
 * design makes to keep failures off the database.
 *
 * Hand-written rather than on lru-cache: lru-cache allocates its slot arrays for `max` entries
 * up front (about 1.6 MB per 100,000 slots, four limiters), for tables that stay near empty
 * unless someone is attacking; its TTL runs on performance.now, while Retry-After is read from
 * the window's start on the caller's clock (which the callers and tests pass in). A Map grows
 * only with the addresses and keys that failed.
 */
export class FailureLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs = 60_000,
    private readonly maxKeys = 100_000,
  ) {}

  /** Whether no key has failed lately (the usual case): callers skip building keys. */
  get empty(): boolean {
    return this.#windows.size === 0;
  }

  /** Seconds until the key may try again, or 0 when it is under its limit. */
  retryAfter(key: string, now = Date.now()): number {
    const window = this.#windows.get(key);
    if (!window || now - window.start >= this.windowMs || window.count < this.limit) return 0;
    return Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000));
  }

  recordFailure(key: string, now = Date.now()): void {
    const window = this.#windows.get(key);
    if (window && now - window.start < this.windowMs) {
      window.count++;
      return;
    }
    this.#windows.delete(key);
    if (this.#windows.size >= this.maxKeys) {
      // Evict the oldest window; Map iteration follows insertion order.
      const oldest = this.#windows.keys().next().value;
      if (oldest !== undefined) this.#windows.delete(oldest);
    }
    this.#windows.set(key, { start: now, count: 1 });
  }
}

/** Who presented a credential: the authenticated caller (or `root`) and its client address. */
export interface FailingCaller {
  id: string;
  address: string;
}

/**
 * The failure limits of a verification route, shared by every credential family. Failures count
 * per (credential id, caller, address) and per address, never per credential id alone: ids are not
 * secret, and a per-id limit would let anyone lock a credential out for its owner. The limits only
 * decide whether an *unknown* secret may cost database and argon2 work; the verifier still answers
 * secrets it has seen match (see ApiKeyVerifier.check), so the right secret is never refused.
 */
export class CredentialFailureLimits {
  constructor(
    /** Per (credential id, caller, address). */
    readonly byKey: FailureLimiter,
    readonly byAddress: FailureLimiter,
  ) {}

  /** Seconds until this caller may try unknown secrets for this credential again; 0 when it may now. */
  retryAfter(credentialId: string, caller: FailingCaller): number {
    if (this.byKey.empty && this.byAddress.empty) return 0;
    return Math.max(this.byKey.retryAfter(CredentialFailureLimits.#keyOf(credentialId, caller)), this.byAddress.retryAfter(caller.address));
  }

  recordFailure(credentialId: string, caller: FailingCaller): void {
    this.byKey.recordFailure(CredentialFailureLimits.#keyOf(credentialId, caller));
    this.byAddress.recordFailure(caller.address);
  }

  static #keyOf(credentialId: string, caller: FailingCaller): string {
    return `${credentialId}\0${caller.id}\0${caller.address}`;
  }
}

/**
 * Holds back answers to clients that were already told to back off (429), the way login prompts
 * delay a failed attempt. A brute-forcer with a bounded number of connections, which is how
 * cracking tools run, then gets a few answers per connection per second instead of thousands, and
 * the CPU goes to everyone else's requests. It saves nothing per request against an open-loop
 * flood; at most `maxHeld` answers wait at once, the rest go out immediately.
 */
export class Tarpit {
  #held = 0;

  constructor(
    private readonly delayMs: number,
    private readonly maxHeld = 10_000,
  ) {}

  async hold(): Promise<void> {
    if (this.delayMs <= 0 || this.#held >= this.maxHeld) return;
    this.#held++;
    try {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    } finally {
      this.#held--;
    }
  }

  get held(): number {
    return this.#held;
  }
}
