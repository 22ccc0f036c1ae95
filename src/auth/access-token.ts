import type { Deps } from '../deps.js';
import type { Actor } from './actor.js';
import type { Authenticator } from './authenticator.js';
import { actorForCloudKey } from './cloud-key.js';

export const ACCESS_TOKEN_AUDIENCE = 'latchkey-management';

/**
 * A bearer access token: intact, current, and obtained with a cloud key that is still active, with a
 * secret that is still live: deleting the key, or rotating it without grace, ends the tokens it
 * obtained; after a rotation with grace, tokens of the old secret end with the grace.
 */
async function authenticateAccessToken(deps: Deps, token: string): Promise<Actor | null> {
  const claims = await deps.accessTokenKeys.verify(token, ACCESS_TOKEN_AUDIENCE);
  const keyId = claims?.client_id;
  if (!claims || typeof keyId !== 'string' || typeof claims.sub !== 'string') return null;
  // Tokens issued before generations existed carry none: every key then had generation 1.
  const generation = claims.gen ?? 1;
  if (typeof generation !== 'number') return null;
  const keyActor = await actorForCloudKey(deps, keyId);
  if (keyActor?.actor.kind !== 'principal' || keyActor.actor.principalId !== claims.sub) return null;
  const live =
    generation === keyActor.generation ||
    (generation === keyActor.generation - 1 && keyActor.previousGenerationUntil !== null && keyActor.previousGenerationUntil > Date.now());
  return live ? keyActor.actor : null;
}

/**
 * A JWT's header is base64url JSON, so it starts with `eyJ`; any other bearer (a configured root
 * token may contain dots) is a root token.
 */
export const isJwt = (credential: string) => /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(credential);

/** OAuth access tokens as `Authorization: Bearer <jwt>`. A signature check costs no argon2 work: tokens are checked even from a throttled address. */
export const accessTokenAuthenticator = (deps: Deps): Authenticator => ({
  scheme: 'bearer',
  accepts: isJwt,
  authenticate: (credential) => authenticateAccessToken(deps, credential),
});
