import { ACCESS_TOKEN_AUDIENCE } from '../../auth/access-token.js';
import { authenticateCloudKeySecret } from '../../auth/cloud-key.js';
import type { Deps } from '../../deps.js';

/** RFC 6749 §5.2 error codes. */
export class OAuthError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'invalid_scope',
    readonly description: string,
  ) {
    super(description);
  }
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
