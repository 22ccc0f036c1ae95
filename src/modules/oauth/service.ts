import type { Actor } from '../../auth/actor.js';
import type { Role } from '../../auth/policy.js';
import { API_KEY_ID_RE } from '../../crypto/tokens.js';
import type { Deps } from '../../deps.js';
import type { KeyActor } from './actor-cache.js';

export const ACCESS_TOKEN_AUDIENCE = 'latchkey-management';

/** RFC 6749 §5.2 error codes. */
export class OAuthError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope',
    readonly description: string,
  ) {
    super(description);
  }
}

/**
 * The owner of an active, unexpired cloud key, with its role bindings and live secret generations;
 * null otherwise. Served from the actor cache when possible (one indexed query when not); the cache
 * drops the entry on every revoke, rotate and delete, on every replica.
 */
async function actorForCloudKey(deps: Deps, apiKeyId: string): Promise<KeyActor | null> {
  const cached = deps.actors.get(apiKeyId);
  if (cached) return cached;
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
  if (!key || key.status !== 'active' || key.type !== 'cloud') return null;
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
  const keyActor: KeyActor = { actor, generation: key.secretGeneration, previousGenerationUntil: previousUntil !== null && previousUntil > now ? previousUntil : null };
  deps.actors.set(apiKeyId, keyActor, epoch, Math.min(keyActor.previousGenerationUntil ?? Infinity, key.expiresAt?.getTime() ?? Infinity));
  return keyActor;
}

/** A cloud key's owner and the generation of the secret that was presented. */
async function authenticateCloudKeySecret(deps: Deps, keyId: string, secret: string, throttled: boolean): Promise<{ actor: Actor; generation: number } | null> {
  if (!API_KEY_ID_RE.test(keyId)) return null;
  const check = await deps.verifier.check(keyId, secret, throttled);
  if (check.outcome !== 'matched' || check.key.type !== 'cloud') return null;
  if (check.key.expiresAt && check.key.expiresAt.getTime() <= Date.now()) return null;
  deps.usage.touch(keyId);
  const keyActor = await actorForCloudKey(deps, keyId);
  return keyActor ? { actor: keyActor.actor, generation: check.key.secretGeneration } : null;
}

/**
 * A cloud API key presented to the management API (Basic, or as OAuth client credentials).
 * Any other kind of key, an expired or revoked one, or a wrong secret: null.
 */
export async function authenticateCloudKey(deps: Deps, keyId: string, secret: string, throttled = false): Promise<Actor | null> {
  return (await authenticateCloudKeySecret(deps, keyId, secret, throttled))?.actor ?? null;
}

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

/** `Basic base64(key_id:secret)` → the owner principal of a valid cloud key. */
export async function authenticateBasic(deps: Deps, credential: string, throttled = false): Promise<Actor | null> {
  const pair = decodeBasic(credential);
  return pair ? authenticateCloudKey(deps, pair.id, pair.secret, throttled) : null;
}

/**
 * A bearer access token: intact, current, and obtained with a cloud key that is still active, with a
 * secret that is still live: deleting the key, or rotating it without grace, ends the tokens it
 * obtained; after a rotation with grace, tokens of the old secret end with the grace.
 */
export async function authenticateAccessToken(deps: Deps, token: string): Promise<Actor | null> {
  const claims = await deps.accessTokenKeys.verify(token, ACCESS_TOKEN_AUDIENCE);
  const keyId = claims?.client_id;
  if (!claims || typeof keyId !== 'string' || typeof claims.sub !== 'string') return null;
  // Tokens issued before generations existed carry none: every key then had generation 1.
  const generation = claims.gen ?? 1;
  if (typeof generation !== 'number') return null;
  const keyActor = await actorForCloudKey(deps, keyId);
  if (!keyActor || keyActor.actor.kind !== 'principal' || keyActor.actor.principalId !== claims.sub) return null;
  const live =
    generation === keyActor.generation ||
    (generation === keyActor.generation - 1 && keyActor.previousGenerationUntil !== null && keyActor.previousGenerationUntil > Date.now());
  return live ? keyActor.actor : null;
}

export interface TokenRequest {
  grant_type?: unknown;
  client_id?: unknown;
  client_secret?: unknown;
}

/** RFC 6749 §4.4 client credentials with a cloud API key as the client. */
export async function issueAccessToken(deps: Deps, request: TokenRequest, basic: { id: string; secret: string } | undefined, throttled = false) {
  if (request.grant_type !== 'client_credentials') {
    if (typeof request.grant_type !== 'string') throw new OAuthError('invalid_request', 'grant_type is required');
    throw new OAuthError('unsupported_grant_type', 'only client_credentials is supported');
  }
  const inBody = request.client_id !== undefined || request.client_secret !== undefined;
  if (basic && inBody) throw new OAuthError('invalid_request', 'send client credentials either as HTTP Basic or in the body, not both');
  const clientId = basic?.id ?? request.client_id;
  const clientSecret = basic?.secret ?? request.client_secret;
  if (typeof clientId !== 'string' || typeof clientSecret !== 'string') {
    throw new OAuthError('invalid_request', 'client_id and client_secret are required');
  }
  const client = await authenticateCloudKeySecret(deps, clientId, clientSecret, throttled);
  const actor = client?.actor;
  if (!client || !actor || actor.kind !== 'principal') throw new OAuthError('invalid_client', 'client authentication failed');
  const ttl = deps.config.LATCHKEY_ACCESS_TOKEN_TTL_SECONDS;
  const accessToken = await deps.accessTokenKeys.sign(
    { sub: actor.principalId, org_id: actor.orgId, client_id: clientId, gen: client.generation },
    ACCESS_TOKEN_AUDIENCE,
    ttl,
  );
  return { access_token: accessToken, token_type: 'Bearer' as const, expires_in: ttl };
}
