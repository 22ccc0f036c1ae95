import { type Actor, actorId, type RequestContext } from '../../auth/actor.js';
import { assertMayIssueKeyFor, authorize, bindingTarget, isAllowed, type KeyOwner } from '../../auth/policy.js';
import type { Role, Target } from '../../auth/roles.js';
import { API_KEY_ID_RE, generateSecret, isWellFormedSecret, newApiKeyId, SecretPrefix, secretHint } from '../../crypto/tokens.js';
import type { Deps } from '../../deps.js';
import { DomainError, invalidField, notFound } from '../../errors.js';
import type { ApiKeyType, Prisma } from '../../generated/prisma/client.js';
import { andThen, type Eventually } from '../../lib/eventually.js';
import { type PageRequest, paginate } from '../../lib/pagination.js';
import type { Tx } from '../../store/index.js';
import { runMutation } from '../../store/mutation.js';
import { recordAudit } from '../audit/service.js';
import { holdEnvironment } from '../environments/service.js';
import { orgSettings } from '../orgs/schemas.js';
import { requireOrg } from '../orgs/service.js';
import { holdResource } from '../resources/service.js';
import { isFlinkRegion } from './flink-regions.js';
import { type ApiKeyScope, type ApiKeyWithOwner, presentedKeyColumns } from './schemas.js';
import type { MatchedKey } from './verifier.js';

const RESOURCE_KEY_KINDS = ['kafka_cluster', 'schema_registry', 'ksqldb_cluster'] as const;
// The owner as a key's representation shows it; the list selects the same through presentedKeyColumns.
const withOwner = { owner: presentedKeyColumns.owner } as const;

interface ResolvedScope {
  type: ApiKeyType;
  data: { resourceId?: string; environmentId?: string; cloud?: string; region?: string };
  target: Target;
}

async function resolveScope(tx: Tx | Deps['db'], orgId: string, scope: ApiKeyScope): Promise<ResolvedScope> {
  switch (scope.type) {
    case 'cloud':
      return { type: 'cloud', data: {}, target: { orgId } };
    case 'resource': {
      const resource = await tx.resource.findFirst({ where: { id: scope.resource_id, orgId } });
      if (!resource) throw invalidField('scope.resource_id', `${scope.resource_id} is not a resource of organization ${orgId}`);
      if (!(RESOURCE_KEY_KINDS as readonly string[]).includes(resource.kind)) {
        throw invalidField('scope.resource_id', `${resource.id} is a ${resource.kind}; resource API keys are for ${RESOURCE_KEY_KINDS.join(', ')}`);
      }
      return {
        type: 'resource',
        data: { resourceId: resource.id },
        target: { orgId, environmentId: resource.environmentId, resourceId: resource.id },
      };
    }
    case 'flink': {
      const environment = await tx.environment.findFirst({ where: { id: scope.environment_id, orgId } });
      if (!environment) throw invalidField('scope.environment_id', `${scope.environment_id} is not an environment of organization ${orgId}`);
      if (!isFlinkRegion(scope.cloud, scope.region)) {
        throw invalidField('scope.region', `${scope.cloud}.${scope.region} is not a Flink region; see GET /v1/flink-regions`);
      }
      return {
        type: 'flink',
        data: { environmentId: environment.id, cloud: scope.cloud, region: scope.region },
        target: { orgId, environmentId: environment.id },
      };
    }
  }
}

/**
 * Cloud keys need OrganizationAdmin. Resource and Flink keys need a Confluent role on the scope;
 * the Developer roles qualify only for keys their holder owns.
 */
function assertMayManage(actor: Actor, type: ApiKeyType, target: Target, ownerId: string): void {
  authorize(actor, type === 'cloud' ? 'api_key.manage_cloud' : 'api_key.manage_scoped', { ...target, ownerId });
}

/** The owner as the policy judges it: its kind and where each of its roles applies. */
async function keyOwnerOf(db: Deps['db'], orgId: string, owner: { id: string; kind: KeyOwner['kind'] }): Promise<KeyOwner> {
  const bindings = await db.roleBinding.findMany({ where: { orgId, principalId: owner.id } });
  const resourceIds = bindings.filter((b) => b.scopeType === 'resource').map((b) => b.scopeId);
  const resources = resourceIds.length
    ? await db.resource.findMany({ where: { orgId, id: { in: resourceIds } }, select: { id: true, environmentId: true } })
    : [];
  const environmentOf = new Map(resources.map((r) => [r.id, r.environmentId]));
  return {
    id: owner.id,
    kind: owner.kind,
    grants: bindings.map((b) => ({
      role: b.role as Role,
      target:
        b.scopeType === 'resource'
          ? { orgId, resourceId: b.scopeId, environmentId: environmentOf.get(b.scopeId) }
          : bindingTarget({ ...b, role: b.role as Role }, orgId),
    })),
  };
}

/** Creating or rotating hands out a secret that acts as the owner: the caller must not borrow rights through it. */
async function assertMayIssueSecret(deps: Deps, actor: Actor, orgId: string, owner: { id: string; kind: KeyOwner['kind'] }): Promise<void> {
  if (actor.kind === 'root' || (actor.kind === 'principal' && actor.principalId === owner.id)) return;
  assertMayIssueKeyFor(actor, orgId, await keyOwnerOf(deps.db, orgId, owner));
}

function targetOf(key: { orgId: string; resourceId: string | null; environmentId: string | null; resource?: { environmentId: string } | null }): Target {
  return { orgId: key.orgId, resourceId: key.resourceId ?? undefined, environmentId: key.environmentId ?? key.resource?.environmentId };
}

export interface CreateApiKeyInput {
  owner: string;
  scope: ApiKeyScope;
  display_name?: string | undefined;
  description?: string | undefined;
  expires_at?: string | undefined;
}

export async function createApiKey(deps: Deps, ctx: RequestContext, orgId: string, input: CreateApiKeyInput) {
  const org = await requireOrg(deps.db, orgId);
  const owner = await deps.db.principal.findFirst({ where: { id: input.owner, orgId } });
  if (!owner) throw invalidField('owner', `${input.owner} is not a service account or user of organization ${orgId}`);
  const scope = await resolveScope(deps.db, orgId, input.scope);
  assertMayManage(ctx.actor, scope.type, scope.target, owner.id);
  await assertMayIssueSecret(deps, ctx.actor, orgId, owner);
  const expiresAt = input.expires_at ? new Date(input.expires_at) : null;
  if (expiresAt && expiresAt.getTime() <= Date.now()) throw invalidField('expires_at', 'must be in the future');

  const settings = orgSettings.parse(org.settings);
  const isCloud = scope.type === 'cloud';
  const quota = isCloud ? (settings.cloud_key_quota ?? deps.config.LATCHKEY_KEY_QUOTA_CLOUD) : (settings.key_quota ?? deps.config.LATCHKEY_KEY_QUOTA_OTHER);

  const id = newApiKeyId();
  const secret = generateSecret(SecretPrefix.apiKey);
  // Hash before the transaction: argon2 must not hold a row lock or a pooled connection.
  const secretHash = await deps.hasher.hash(secret);

  const key = await deps.db.$transaction(async (tx) => {
    // Serializes key creation per owner, so concurrent requests cannot overshoot the quota; the
    // scope's rows are held so a concurrent delete either waits for this key or is seen here.
    const locked = await tx.$queryRaw<unknown[]>`SELECT id FROM principals WHERE id = ${owner.id} FOR UPDATE`;
    if (locked.length === 0) throw invalidField('owner', `${owner.id} was deleted`);
    if (scope.data.resourceId && !(await holdResource(tx, orgId, scope.data.resourceId))) {
      throw invalidField('scope.resource_id', `${scope.data.resourceId} was deleted`);
    }
    if (scope.data.environmentId && !(await holdEnvironment(tx, orgId, scope.data.environmentId))) {
      throw invalidField('scope.environment_id', `${scope.data.environmentId} was deleted`);
    }
    const held = await tx.apiKey.count({
      where: { ownerId: owner.id, status: 'active', type: isCloud ? 'cloud' : { in: ['resource', 'flink'] } },
    });
    if (held >= quota) {
      throw new DomainError(
        'quota_exceeded',
        `${owner.id} already holds ${held} ${isCloud ? 'cloud' : 'resource and Flink'} API keys, the quota; delete unused keys first`,
        { extra: { quota } },
      );
    }
    const created = await tx.apiKey.create({
      data: {
        id,
        orgId,
        ownerId: owner.id,
        type: scope.type,
        ...scope.data,
        displayName: input.display_name ?? '',
        description: input.description ?? '',
        secretHash,
        secretHint: secretHint(secret),
        expiresAt,
      },
      include: withOwner,
    });
    await recordAudit(tx, ctx, {
      orgId,
      action: 'api_key.create',
      target: id,
      details: { owner: owner.id, type: scope.type, scope: input.scope, expires_at: input.expires_at ?? null },
    });
    return created;
  });
  return { key, secret };
}

export interface ApiKeyFilters {
  owner?: string | undefined;
  resource_id?: string | undefined;
  type?: ApiKeyType | undefined;
  status?: 'active' | 'expired' | 'revoked' | undefined;
  /** Flink keys of one environment and region (`spec.resource=env-x.aws.us-east-2` of the Confluent-compatible list). */
  flink?: { environment_id: string; cloud: string; region: string } | undefined;
  /** Leave revoked keys out, whatever `status` says: Confluent's API forgets deleted keys. */
  exclude_revoked?: boolean | undefined;
}

function statusWhere(status: ApiKeyFilters['status'], now: Date): Prisma.ApiKeyWhereInput {
  switch (status) {
    case undefined:
      return {};
    case 'revoked':
      return { status: 'revoked' };
    case 'expired':
      return { status: 'active', expiresAt: { lte: now } };
    case 'active':
      return { status: 'active', OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
  }
}

/**
 * OrganizationAdmins (and root) see every key. Others see their own keys and the keys of the
 * scopes where they hold a role that may manage keys for others.
 */
function visibleTo(actor: Actor, orgId: string): Prisma.ApiKeyWhereInput {
  if (actor.kind === 'root' || isAllowed(actor, 'api_key.manage_cloud', { orgId })) return {};
  const managing = actor.bindings.filter((b) => isAllowed({ ...actor, bindings: [b] }, 'api_key.manage_scoped', bindingTarget(b, orgId)));
  if (managing.some((b) => b.scopeType === 'organization')) return { OR: [{ ownerId: actor.principalId }, { type: { not: 'cloud' } }] };
  const environments = managing.filter((b) => b.scopeType === 'environment').map((b) => b.scopeId);
  const resources = managing.filter((b) => b.scopeType === 'resource').map((b) => b.scopeId);
  return {
    OR: [
      { ownerId: actor.principalId },
      { type: { not: 'cloud' }, resourceId: { in: resources } },
      { type: { not: 'cloud' }, resource: { environmentId: { in: environments } } },
      { type: 'flink', environmentId: { in: environments } },
    ],
  };
}

export async function listApiKeys(deps: Deps, ctx: RequestContext, orgId: string, filters: ApiKeyFilters, page: PageRequest) {
  await requireOrg(deps.db, orgId);
  const where: Prisma.ApiKeyWhereInput = {
    orgId,
    ...(filters.owner ? { ownerId: filters.owner } : {}),
    ...(filters.resource_id ? { resourceId: filters.resource_id } : {}),
    ...(filters.type ? { type: filters.type } : {}),
    ...(filters.exclude_revoked ? { status: 'active' as const } : {}),
  };
  const flink: Prisma.ApiKeyWhereInput = filters.flink
    ? { type: 'flink', environmentId: filters.flink.environment_id, cloud: filters.flink.cloud, region: filters.flink.region }
    : {};
  const scoped = { AND: [where, flink, statusWhere(filters.status, new Date()), visibleTo(ctx.actor, orgId)] };
  return paginate(page, (args) => deps.db.apiKey.findMany({ ...args, where: { AND: [scoped, args.where] }, select: presentedKeyColumns }));
}

/** The key if it exists in the org and the actor may see it; 404 otherwise (never 403 for reads). */
async function findVisibleKey(db: Deps['db'] | Tx, actor: Actor, orgId: string, keyId: string) {
  const key = await db.apiKey.findFirst({
    where: { AND: [{ id: keyId, orgId }, visibleTo(actor, orgId)] },
    include: { ...withOwner, resource: { select: { environmentId: true } } },
  });
  if (!key) throw notFound('API key', keyId);
  return key;
}

export async function getApiKey(deps: Deps, ctx: RequestContext, orgId: string, keyId: string): Promise<ApiKeyWithOwner> {
  await requireOrg(deps.db, orgId);
  return findVisibleKey(deps.db, ctx.actor, orgId, keyId);
}

const MUTABLE_FIELDS = new Set(['display_name', 'description']);

export async function updateApiKey(
  deps: Deps,
  ctx: RequestContext,
  orgId: string,
  keyId: string,
  patch: Record<string, unknown> & { display_name?: string | undefined; description?: string | undefined },
): Promise<ApiKeyWithOwner> {
  const immutable = Object.keys(patch).filter((field) => !MUTABLE_FIELDS.has(field));
  if (immutable.length > 0) {
    throw new DomainError('immutable_field', `only display_name and description can change; create a new key to change ${immutable.join(', ')}`, {
      errors: immutable.map((path) => ({ path, message: 'cannot be changed' })),
    });
  }
  await requireOrg(deps.db, orgId);
  const existing = await findVisibleKey(deps.db, ctx.actor, orgId, keyId);
  assertMayManage(ctx.actor, existing.type, targetOf(existing), existing.ownerId);
  return deps.db.$transaction(async (tx) => {
    const key = await tx.apiKey.update({
      where: { id: keyId },
      data: {
        ...(patch.display_name !== undefined ? { displayName: patch.display_name } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
      },
      include: withOwner,
    });
    await recordAudit(tx, ctx, { orgId, action: 'api_key.update', target: keyId, details: { fields: Object.keys(patch) } });
    return key;
  });
}

/**
 * Deleting a key revokes it: the row stays (status `revoked`) so that verification can answer
 * REVOKED to the holder of the right secret and the audit trail keeps its subject. Idempotent.
 */
export async function deleteApiKey(deps: Deps, ctx: RequestContext, orgId: string, keyId: string): Promise<void> {
  await requireOrg(deps.db, orgId);
  const existing = await findVisibleKey(deps.db, ctx.actor, orgId, keyId);
  assertMayManage(ctx.actor, existing.type, targetOf(existing), existing.ownerId);
  if (existing.status === 'revoked') return;
  await runMutation(deps.store, async (tx, invalidate) => {
    // Only the delete that actually revoked the key audits it; a concurrent one finds it revoked.
    const { count } = await tx.apiKey.updateMany({
      where: { id: keyId, status: 'active' },
      data: { status: 'revoked', previousSecretHash: null, previousSecretExpiresAt: null },
    });
    if (count === 0) return;
    await recordAudit(tx, ctx, { orgId, action: 'api_key.delete', target: keyId, details: { owner: existing.ownerId, type: existing.type } });
    invalidate('api_key', [keyId]);
  });
}

/**
 * A new secret; the old one keeps verifying for the grace period, never past the key's expiry.
 */
export async function rotateApiKey(deps: Deps, ctx: RequestContext, orgId: string, keyId: string, gracePeriodSeconds: number) {
  await requireOrg(deps.db, orgId);
  const existing = await findVisibleKey(deps.db, ctx.actor, orgId, keyId);
  assertMayManage(ctx.actor, existing.type, targetOf(existing), existing.ownerId);
  await assertMayIssueSecret(deps, ctx.actor, orgId, existing.owner);
  if (existing.status === 'revoked') throw new DomainError('conflict', `API key ${keyId} is revoked and cannot be rotated; create a new key`);
  // A key has at most one previous secret. Rotating again with a grace would silently end the
  // running grace of the older secret, breaking clients not yet moved; grace 0 (ending every old
  // secret now, e.g. after a leak) is always allowed.
  const runningGrace = existing.previousSecretExpiresAt && existing.previousSecretExpiresAt.getTime() > Date.now() ? existing.previousSecretExpiresAt : null;
  if (runningGrace && gracePeriodSeconds > 0) {
    throw new DomainError(
      'conflict',
      `API key ${keyId} is still in the grace period of its last rotation (the previous secret verifies until ${runningGrace.toISOString()}); ` +
        'rotate again after that, or rotate with grace_period_seconds 0 to end every old secret now',
    );
  }

  const secret = generateSecret(SecretPrefix.apiKey);
  const secretHash = await deps.hasher.hash(secret);
  const now = Date.now();
  let graceEnd = gracePeriodSeconds > 0 ? now + gracePeriodSeconds * 1000 : null;
  if (graceEnd !== null && existing.expiresAt) graceEnd = Math.min(graceEnd, existing.expiresAt.getTime());
  const previousSecretExpiresAt = graceEnd !== null && graceEnd > now ? new Date(graceEnd) : null;

  const key = await runMutation(deps.store, async (tx, invalidate) => {
    // Compare-and-set on the hash: of two concurrent rotations, the second is refused, not merged.
    const { count } = await tx.apiKey.updateMany({
      where: { id: keyId, secretHash: existing.secretHash, status: 'active' },
      data: {
        secretHash,
        secretHint: secretHint(secret),
        previousSecretHash: previousSecretExpiresAt ? existing.secretHash : null,
        previousSecretExpiresAt,
        secretGeneration: { increment: 1 },
      },
    });
    if (count !== 1) throw new DomainError('conflict', `API key ${keyId} changed while it was being rotated; retry`);
    await recordAudit(tx, ctx, {
      orgId,
      action: 'api_key.rotate',
      target: keyId,
      details: { grace_period_seconds: gracePeriodSeconds, previous_secret_expires_at: previousSecretExpiresAt?.toISOString() ?? null },
    });
    invalidate('api_key', [keyId]);
    return tx.apiKey.findUniqueOrThrow({ where: { id: keyId }, include: withOwner });
  });
  return { key, secret, previousSecretExpiresAt };
}

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
 * The verification hot path. Malformed secrets are refused before any I/O; a cached match costs a
 * hash and a cache lookup, answered synchronously (the secret's checksum is checked on misses
 * only); a miss costs one argon2 run shared by concurrent callers. Unknown keys, wrong secrets and
 * other organizations' keys are indistinguishable (INVALID); EXPIRED, REVOKED and WRONG_RESOURCE
 * are told only to a caller who presented the right secret.
 */
export function verifyApiKey(deps: Deps, ctx: RequestContext, input: { key: string; secret: string; resource_id: string }): Eventually<VerifyResult> {
  const callerOrg = ctx.actor.kind === 'principal' ? ctx.actor.orgId : undefined;
  if (callerOrg !== undefined) authorize(ctx.actor, 'credential.verify', { orgId: callerOrg });
  if (!API_KEY_ID_RE.test(input.key)) return INVALID;

  const caller = { id: actorId(ctx.actor), address: ctx.sourceIp };
  const retryAfterSeconds = deps.verifyFailures.retryAfter(input.key, caller);
  return andThen(deps.verifier.check(input.key, input.secret, retryAfterSeconds > 0), (check): VerifyResult => {
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
  });
}
