import type { KdbSettings } from '../resources/schemas.js';

const TTL_MS = 60_000;

/** What the details answer needs, for a client id that was verified against its argon2id hash. */
export interface CachedClient {
  lookupId: string;
  name: string;
  insertTopic: string;
  queryTopic: string;
  caCertificate: string;
  certificate: string;
  /** Still sealed under the key derived from the client id: the cache holds no usable private key. */
  privateKeyEncrypted: string | null;
  endpoints: KdbSettings['endpoints'];
}

/**
 * Verified client details by lookup id, so that a client re-reading its details (the KX SDKs do)
 * costs no argon2 run and no database round trip. The lookup id is an HMAC of the whole client id,
 * so a hit means the same client id was verified before. Dropped on leave, force re-enrolment,
 * settings changes and deployment deletion (the invalidation bus carries lookup ids as `client`).
 * While the invalidation channel is unhealthy (`usable` false) nothing is served or stored.
 */
export class ClientDetailsCache {
  readonly #entries = new Map<string, { client: CachedClient; until: number }>();
  #epoch = 0;
  /** Cache answers and misses, read by the metrics scrape. */
  readonly stats = { hits: 0, misses: 0 };

  constructor(
    private readonly maxEntries = 50_000,
    private readonly usable: () => boolean = () => true,
  ) {}

  get(lookupId: string, now = Date.now()): CachedClient | undefined {
    const entry = this.usable() ? this.#entries.get(lookupId) : undefined;
    if (!entry) {
      this.stats.misses++;
      return undefined;
    }
    if (entry.until <= now) {
      this.#entries.delete(lookupId);
      this.stats.misses++;
      return undefined;
    }
    this.stats.hits++;
    return entry.client;
  }

  /** The epoch to pass to `set`: a load that raced with an invalidation is not remembered. */
  get epoch(): number {
    return this.#epoch;
  }

  set(client: CachedClient, epoch: number): void {
    if (epoch !== this.#epoch || this.maxEntries === 0 || !this.usable()) return;
    if (this.#entries.size >= this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(client.lookupId, { client, until: Date.now() + TTL_MS });
  }

  invalidate(lookupIds: Iterable<string>): void {
    this.#epoch++;
    for (const id of lookupIds) this.#entries.delete(id);
  }

  clear(): void {
    this.#epoch++;
    this.#entries.clear();
  }
}
