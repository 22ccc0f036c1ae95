import { timingSafeEqual } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { Eventually } from '../lib/eventually.js';
import type { Actor } from './actor.js';
import type { Authenticator } from './authenticator.js';
import { authenticateCloudKeySecret } from './cloud-key.js';

/**
 * The `id:secret` pair inside an HTTP Basic credential (the part after `Basic `). With
 * `formEncoded`, both halves are form-urlencoded as RFC 6749 §2.3.1 requires of OAuth clients;
 * a malformed escape makes the credential unreadable (undefined), not an error.
 */
export function decodeBasic(credential: string, formEncoded = false): { id: string; secret: string } | undefined {
  const decoded = Buffer.from(credential.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const id = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  if (!formEncoded) return { id, secret };
  try {
    return { id: decodeURIComponent(id), secret: decodeURIComponent(secret) };
  } catch {
    return undefined;
  }
}

/**
 * How long a connection's remembered Basic credential answers without going back to the caches.
 * Revocations end it at once (the caches' generations move); this bounds only how far past a
 * cache entry's own TTL the remembered answer may reach.
 */
const REMEMBER_MS = 1_000;

/** The last Basic credential a connection authenticated from the caches, and what it established. */
interface Remembered {
  /** The credential's UTF-16 code units as bytes (one-to-one with the string): compared, never decoded. */
  credential: Buffer;
  keyId: string;
  actor: Actor;
  /** The verifier's and the actor cache's generations when it was established. */
  verifierGeneration: number;
  actorsGeneration: number;
  until: number;
}

/** Per connection (its socket), never per credential: nothing here is reachable from another connection. */
const rememberedOn = new WeakMap<object, Remembered>();

/**
 * Whether the presented credential is the remembered one, in time that depends on their length
 * only. timingSafeEqual over the code units costs three quarters of a JavaScript loop over the
 * characters (230 ns against 310 ns for a 112-character credential, on this machine). UTF-16, not
 * Latin-1: Latin-1 would fold characters above U+00FF onto others.
 */
function sameCredential(remembered: Buffer, presented: string): boolean {
  if (remembered.length !== presented.length * 2) return false;
  return timingSafeEqual(remembered, Buffer.from(presented, 'utf16le'));
}

/**
 * `Basic base64(key_id:secret)` → the owner principal of an active cloud API key. Any other kind of
 * key, an expired or revoked one, or a wrong secret: null.
 *
 * A Verifier sends the same credential on every request of a keep-alive connection, so the
 * connection remembers the last one the caches answered: while neither cache has been invalidated
 * since (any revoke, rotate or delete moves its generation; so does losing the invalidation
 * channel), the key has not expired and a second has not passed, the same header string answers
 * the same actor without decoding, hashing or cache lookups (a fifth of a cached verification's
 * instructions: bench/README.md). The comparison runs in constant time: behind a proxy that pools
 * connections, other clients' requests may share the connection. Usage is still recorded.
 */
function authenticateBasic(deps: Deps, credential: string, connection: object | undefined, throttled: boolean): Eventually<Actor | null> {
  const now = Date.now();
  const remembered = connection && rememberedOn.get(connection);
  if (
    remembered &&
    now < remembered.until &&
    remembered.verifierGeneration === deps.verifier.generation &&
    remembered.actorsGeneration === deps.actors.generation &&
    sameCredential(remembered.credential, credential)
  ) {
    deps.usage.touch(remembered.keyId, now);
    return remembered.actor;
  }
  const pair = decodeBasic(credential);
  if (!pair) return null;
  const found = authenticateCloudKeySecret(deps, pair.id, pair.secret, throttled);
  if (found instanceof Promise) return found.then((caller) => caller?.actor ?? null);
  if (!connection) return found?.actor ?? null;
  if (!found) {
    rememberedOn.delete(connection);
    return null;
  }
  // Answered synchronously: both caches held it, at their current generations.
  rememberedOn.set(connection, {
    credential: Buffer.from(credential, 'utf16le'),
    keyId: pair.id,
    actor: found.actor,
    verifierGeneration: deps.verifier.generation,
    actorsGeneration: deps.actors.generation,
    until: Math.min(now + REMEMBER_MS, found.validUntil),
  });
  return found.actor;
}

/** Cloud API keys as `Authorization: Basic base64(key_id:secret)`. */
export const basicAuthenticator = (deps: Deps): Authenticator => ({
  scheme: 'basic',
  accepts: () => true,
  authenticate: (credential, request, throttled) => authenticateBasic(deps, credential, request.raw.socket ?? undefined, throttled),
});
