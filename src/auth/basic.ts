import type { Deps } from '../deps.js';
import { andThen, type Eventually } from '../lib/eventually.js';
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
 * `Basic base64(key_id:secret)` → the owner principal of an active cloud API key. Any other kind of
 * key, an expired or revoked one, or a wrong secret: null.
 */
function authenticateBasic(deps: Deps, credential: string, throttled: boolean): Eventually<Actor | null> {
  const pair = decodeBasic(credential);
  return pair ? andThen(authenticateCloudKeySecret(deps, pair.id, pair.secret, throttled), (found) => found?.actor ?? null) : null;
}

/** Cloud API keys as `Authorization: Basic base64(key_id:secret)`. */
export const basicAuthenticator = (deps: Deps): Authenticator => ({
  scheme: 'basic',
  accepts: () => true,
  authenticate: (credential, _request, throttled) => authenticateBasic(deps, credential, throttled),
});
