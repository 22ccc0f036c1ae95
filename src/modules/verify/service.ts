import { actorId, type RequestContext } from '../../auth/actor.js';
import { authorize } from '../../auth/policy.js';
import { API_KEY_ID_RE, isWellFormedSecret, SecretPrefix } from '../../crypto/tokens.js';
import type { Deps } from '../../deps.js';
import { DomainError } from '../../errors.js';
import type { ApiKeyScope } from '../api-keys/schemas.js';
import type { MatchedKey } from './verifier.js';

type VerifyCode = 'VALID' | 'INVALID' | 'EXPIRED' | 'REVOKED' | 'WRONG_RESOURCE';

export type VerifyResult =
  | { valid: false; code: Exclude<VerifyCode, 'VALID'> }
  | {
      valid: true;
      code: 'VALID';
      key: { id: string; type: MatchedKey['type']; scope: ApiKeyScope; expires_at: string | null };
      principal: MatchedKey['principal'];
      org_id: string;
    };

const INVALID: VerifyResult = { valid: false, code: 'INVALID' };

/** `resource_id` as a data plane names what it guards: a resource id, `cloud`, or `env-x.<cloud>.<region>`. */
function grants(scope: ApiKeyScope, resourceId: string): boolean {
  switch (scope.type) {
    case 'cloud':
      return resourceId === 'cloud';
    case 'resource':
      return resourceId === scope.resource_id;
    case 'flink':
      return resourceId === `${scope.environment_id}.${scope.cloud}.${scope.region}`;
  }
}

/**
 * The verification hot path. Malformed secrets are refused before any I/O; a cached match costs an
 * HMAC and a cache lookup (the secret's checksum is checked on misses only); a miss costs one argon2 run shared by concurrent callers. Unknown keys,
 * wrong secrets and other organizations' keys are indistinguishable (INVALID); EXPIRED, REVOKED and
 * WRONG_RESOURCE are told only to a caller who presented the right secret.
 */
export async function verifyApiKey(deps: Deps, ctx: RequestContext, input: { key: string; secret: string; resource_id: string }): Promise<VerifyResult> {
  const callerOrg = ctx.actor.kind === 'principal' ? ctx.actor.orgId : undefined;
  if (callerOrg !== undefined) authorize(ctx.actor, 'credential.verify', { orgId: callerOrg });
  if (!API_KEY_ID_RE.test(input.key)) return INVALID;

  const caller = { id: actorId(ctx.actor), address: ctx.sourceIp };
  const retryAfterSeconds = deps.verifyFailures.retryAfter(input.key, caller);
  const check = await deps.verifier.check(input.key, input.secret, retryAfterSeconds > 0);
  // A malformed secret is INVALID whoever sends it and counts as no failure; the verifier checks
  // well-formedness only before a load, so that a cache hit does not pay for the checksum.
  if (check.outcome !== 'matched' && check.outcome !== 'revoked' && !isWellFormedSecret(SecretPrefix.apiKey, input.secret)) return INVALID;
  if (check.outcome === 'throttled') {
    throw new DomainError('rate_limited', 'too many failed verifications of this key by this caller, or from this address', { retryAfterSeconds });
  }
  if (check.outcome === 'invalid') {
    deps.verifyFailures.recordFailure(input.key, caller);
    return INVALID;
  }
  const orgId = check.outcome === 'revoked' ? check.orgId : check.key.orgId;
  if (callerOrg !== undefined && orgId !== callerOrg) return INVALID;
  if (check.outcome === 'revoked') return { valid: false, code: 'REVOKED' };

  const { key } = check;
  if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) return { valid: false, code: 'EXPIRED' };
  if (!grants(key.scope, input.resource_id)) return { valid: false, code: 'WRONG_RESOURCE' };
  deps.usage.touch(key.keyId);
  return {
    valid: true,
    code: 'VALID',
    key: { id: key.keyId, type: key.type, scope: key.scope, expires_at: key.expiresAt?.toISOString() ?? null },
    principal: key.principal,
    org_id: key.orgId,
  };
}
