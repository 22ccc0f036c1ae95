import type { Actor } from './actor.js';

const TTL_MS = 60_000;

/** The actor behind a cloud key, with which secret generations of the key are live. */
export interface KeyActor {
  actor: Actor;
  /** The generation of the key's current secret. */
  generation: number;
  /** Until when the previous generation (a rotation's grace) is live; null when it is not. */
  previousGenerationUntil: number | null;
}
const MAX_ENTRIES = 50_000;

/**
 * The actor (principal and role bindings) behind each cloud API key, so authenticated calls such
 * as a Verifier's verifications need no database round trip. Entries are dropped with the key's
 * other cached state: on revoke, rotate and delete of the key or its owner, and on any change to
 * the owner's role bindings (those announce the owner's cloud keys on the invalidation bus).
 */
export class ActorCache {
  readonly #entries = new Map<string, { keyActor: KeyActor; keyExpiresAt: number | null; until: number }>();
  #epoch = 0;

  /** `usable`: false while revocations may be missed (the invalidation listener is down); the cache then neither serves nor stores. */
  constructor(private readonly usable: () => boolean = () => true) {}

  get(apiKeyId: string, now = Date.now()): KeyActor | undefined {
    if (!this.usable()) return undefined;
    const entry = this.#entries.get(apiKeyId);
    if (!entry) return undefined;
    if (entry.until <= now || (entry.keyExpiresAt !== null && entry.keyExpiresAt <= now)) {
      this.#entries.delete(apiKeyId);
      return undefined;
    }
    return entry.keyActor;
  }

  /** The epoch to pass to `set`: a load that raced with an invalidation is not remembered. */
  get epoch(): number {
    return this.#epoch;
  }

  set(apiKeyId: string, keyActor: KeyActor, keyExpiresAt: Date | null, epoch: number): void {
    if (epoch !== this.#epoch || !this.usable()) return;
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    const until = Math.min(Date.now() + TTL_MS, keyActor.previousGenerationUntil ?? Infinity);
    this.#entries.set(apiKeyId, { keyActor, keyExpiresAt: keyExpiresAt?.getTime() ?? null, until });
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
