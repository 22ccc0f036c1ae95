import { API_KEY_ID_RE } from '../crypto/tokens.js';
import type { Deps } from '../deps.js';
import { andThen, type Eventually } from '../lib/eventually.js';
import type { Actor } from './actor.js';
import type { KeyActor } from './actor-cache.js';
import type { Role } from './roles.js';

/**
 * The owner of an active, unexpired cloud key, with its role bindings and live secret generations;
 * null otherwise. Served from the actor cache when possible (one indexed query when not); the cache
 * drops the entry on every revoke, rotate and delete, on every replica.
 */
export function actorForCloudKey(deps: Deps, apiKeyId: string): Eventually<KeyActor | null> {
  return deps.actors.get(apiKeyId) ?? loadActor(deps, apiKeyId);
}

async function loadActor(deps: Deps, apiKeyId: string): Promise<KeyActor | null> {
  const epoch = deps.actors.epoch;
  const key = await deps.db.apiKey.findUnique({
    where: { id: apiKeyId },
    select: {
      status: true,
      type: true,
      expiresAt: true,
      secretGeneration: true,
      previousSecretExpiresAt: true,
      owner: { include: { roleBindings: true } },
    },
  });
  if (key?.status !== 'active' || key.type !== 'cloud') return null;
  const now = Date.now();
  if (key.expiresAt && key.expiresAt.getTime() <= now) return null;
  const actor: Actor = {
    kind: 'principal',
    principalId: key.owner.id,
    principalType: key.owner.kind,
    orgId: key.owner.orgId,
    apiKeyId,
    bindings: key.owner.roleBindings.map((b) => ({ role: b.role as Role, scopeType: b.scopeType, scopeId: b.scopeId })),
  };
  const previousUntil = key.previousSecretExpiresAt?.getTime() ?? null;
  const keyActor: KeyActor = {
    actor,
    generation: key.secretGeneration,
    previousGenerationUntil: previousUntil !== null && previousUntil > now ? previousUntil : null,
  };
  deps.actors.set(apiKeyId, keyActor, epoch, Math.min(keyActor.previousGenerationUntil ?? Infinity, key.expiresAt?.getTime() ?? Infinity));
  return keyActor;
}

/** A cloud key that authenticated a caller. */
export interface CloudKeyCaller {
  actor: Actor;
  /** The generation of the secret that was presented. */
  generation: number;
  /** Until when (ms since the epoch) the presented secret stays valid if nothing changes: the key's expiry, a previous secret's grace; Infinity when unbounded. */
  validUntil: number;
}

/** A cloud key's owner and the generation of the secret that was presented; at once when both are cached. */
export function authenticateCloudKeySecret(deps: Deps, keyId: string, secret: string, throttled: boolean): Eventually<CloudKeyCaller | null> {
  if (!API_KEY_ID_RE.test(keyId)) return null;
  return andThen(deps.verifier.check(keyId, secret, throttled), (check) => {
    if (check.outcome !== 'matched' || check.key.type !== 'cloud') return null;
    const expiresAt = check.key.expiresAt?.getTime() ?? Infinity;
    const now = Date.now();
    if (expiresAt <= now) return null;
    deps.usage.touch(keyId, now);
    const generation = check.key.secretGeneration;
    const validUntil = Math.min(expiresAt, check.key.previousSecretUntil ?? Infinity);
    return andThen(actorForCloudKey(deps, keyId), (keyActor) => (keyActor ? { actor: keyActor.actor, generation, validUntil } : null));
  });
}
