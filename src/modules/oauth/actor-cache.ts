import type { Actor } from '../../auth/actor.js';

const TTL_MS = 60_000;
const MAX_ENTRIES = 50_000;

/**
 * The actor (principal and role bindings) behind each cloud API key, so authenticated calls such
 * as a Verifier's verifications need no database round trip. Entries are dropped with the key's
 * other cached state: on revoke, rotate and delete of the key or its owner, and on any change to
 * the owner's role bindings (those announce the owner's cloud keys on the invalidation bus).
 */
export class ActorCache {
  readonly #entries = new Map<string, { actor: Actor; keyExpiresAt: number | null; until: number }>();
  #epoch = 0;

  /** `usable`: false while revocations may be missed (the invalidation listener is down); the cache then neither serves nor stores. */
  constructor(private readonly usable: () => boolean = () => true) {}

  get(apiKeyId: string, now = Date.now()): Actor | undefined {
    if (!this.usable()) return undefined;
    const entry = this.#entries.get(apiKeyId);
    if (!entry) return undefined;
    if (entry.until <= now || (entry.keyExpiresAt !== null && entry.keyExpiresAt <= now)) {
      this.#entries.delete(apiKeyId);
      return undefined;
    }
    return entry.actor;
  }

  /** The epoch to pass to `set`: a load that raced with an invalidation is not remembered. */
  get epoch(): number {
    return this.#epoch;
  }

  set(apiKeyId: string, actor: Actor, keyExpiresAt: Date | null, epoch: number): void {
    if (epoch !== this.#epoch || !this.usable()) return;
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(apiKeyId, { actor, keyExpiresAt: keyExpiresAt?.getTime() ?? null, until: Date.now() + TTL_MS });
  }

  invalidate(apiKeyIds: Iterable<string>): void {
    this.#epoch++;
    for (const id of apiKeyIds) this.#entries.delete(id);
  }

  clear(): void {
    this.#epoch++;
    this.#entries.clear();
  }
}
