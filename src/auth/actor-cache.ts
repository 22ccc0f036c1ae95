import { VerifyCache } from '../lib/verify-cache.js';
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
 * the owner's role bindings (those announce the owner's cloud keys on the invalidation bus); and
 * they end with the key's expiry and with the grace of its previous secret.
 */
export type ActorCache = VerifyCache<KeyActor>;

/** `usable`: false while revocations may be missed (the invalidation listener is down); the cache then neither serves nor stores. */
export function actorCache(usable: () => boolean = () => true): ActorCache {
  return new VerifyCache<KeyActor>({ max: MAX_ENTRIES, ttlMs: TTL_MS, usable });
}
