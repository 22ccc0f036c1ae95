import { actorId, type RequestContext } from '../../auth/actor.js';
import { authorize } from '../../auth/policy.js';
import { accessKeyLookupId, generateAccessKey, newAccessKeyLookupId, secretHint } from '../../crypto/tokens.js';
import type { Deps } from '../../deps.js';
import { DomainError, type FieldError, invalidField, notFound } from '../../errors.js';
import type { Resource } from '../../generated/prisma/client.js';
import { andThen, type Eventually } from '../../lib/eventually.js';
import { type PageRequest, paginate } from '../../lib/pagination.js';
import { isUniqueViolation } from '../../store/errors.js';
import { runMutation } from '../../store/mutation.js';
import { recordAudit } from '../audit/service.js';
import { requireOrg } from '../orgs/service.js';
import { holdResource, requireResource, resourceTarget } from '../resources/service.js';
import { filterUrlProblem, normalizeAllowedHosts } from './key-filter.js';
import { type CreateAccessKeyInput, type PresentedAccessKey, presentedAccessKeyColumns } from './schemas.js';
import type { MatchedAccessKey } from './verifier.js';

/** The fluvio_cluster the path names, once the actor may manage its access keys. */
async function requireManagedCluster(deps: Deps, ctx: RequestContext, orgId: string, clusterId: string): Promise<Resource> {
  await requireOrg(deps.db, orgId);
  const cluster = await requireResource(deps.db, orgId, clusterId);
  if (cluster.kind !== 'fluvio_cluster') {
    throw invalidField('cluster_id', `${clusterId} is a ${cluster.kind}; access keys are for fluvio_cluster resources`);
  }
  authorize(ctx.actor, 'access_key.manage', resourceTarget(cluster));
  return cluster;
}

interface KeyShape {
  protocol: 'simple' | 'fluvio';
  topic: string | null;
  consume: boolean;
  produce: boolean;
  keyFilterRemote: string | null;
}

/** Fluvio's rules: a simple key names one topic and may be limited to consume or produce; a fluvio key takes none of that. */
function keyShape(input: CreateAccessKeyInput, allowedHosts: ReadonlySet<string>): KeyShape {
  const errors: FieldError[] = [];
  const protocol = input.protocol ?? 'simple';
  if (protocol === 'fluvio') {
    for (const field of ['topic', 'consume', 'produce', 'key_filter_remote'] as const) {
      if (input[field] !== undefined) errors.push({ path: field, message: 'is not allowed with protocol fluvio (it grants the full protocol)' });
    }
    if (errors.length > 0)
      throw new DomainError('validation_failed', 'a fluvio protocol key takes no topic, consume, produce or key_filter_remote', { errors });
    return { protocol, topic: null, consume: true, produce: true, keyFilterRemote: null };
  }
  if (input.topic === undefined) errors.push({ path: 'topic', message: 'is required for a simple key' });
  // Neither flag: both operations. One flag given: that one decides and the other is its opposite.
  const consume = input.consume ?? (input.produce === undefined ? true : !input.produce);
  const produce = input.produce ?? (input.consume === undefined ? true : !input.consume);
  if (!consume && !produce) errors.push({ path: 'consume', message: 'a simple key must allow consume or produce' });
  if (input.key_filter_remote !== undefined) {
    if (!consume) errors.push({ path: 'key_filter_remote', message: 'is only allowed on a key that may consume' });
    const url = input.key_filter_remote.slice(input.key_filter_remote.indexOf(':') + 1);
    const problem = filterUrlProblem(url, allowedHosts);
    if (problem) errors.push({ path: 'key_filter_remote', message: `URL ${problem}` });
  }
  if (errors.length > 0) {
    throw new DomainError('validation_failed', errors.map((e) => `${e.path} ${e.message}`).join('; '), { errors });
  }
  return { protocol, topic: input.topic!, consume, produce, keyFilterRemote: input.key_filter_remote ?? null };
}

export async function createAccessKey(deps: Deps, ctx: RequestContext, orgId: string, clusterId: string, input: CreateAccessKeyInput) {
  await requireManagedCluster(deps, ctx, orgId, clusterId);
  const shape = keyShape(input, normalizeAllowedHosts(deps.config.LATCHKEY_KEY_FILTER_ALLOWED_HOSTS));
  const id = newAccessKeyLookupId();
  const key = generateAccessKey(id);
  // Hash before the transaction: argon2 must not hold a row lock or a pooled connection.
  const secretHash = await deps.hasher.hash(key);
  try {
    const created = await deps.db.$transaction(async (tx) => {
      // Held FOR KEY SHARE: a concurrent cluster delete waits for this key, then removes it too.
      if (!(await holdResource(tx, orgId, clusterId))) throw notFound('resource', clusterId);
      const row = await tx.accessKey.create({
        data: { id, orgId, clusterId, name: input.name, ...shape, secretHash, keyHint: secretHint(key), createdBy: actorId(ctx.actor) },
        select: presentedAccessKeyColumns,
      });
      await recordAudit(tx, ctx, {
        orgId,
        action: 'access_key.created',
        target: input.name,
        // The key name and its shape; never the key, its hash, or the filter URL's values.
        details: {
          cluster_id: clusterId,
          name: input.name,
          protocol: shape.protocol,
          topic: shape.topic,
          consume: shape.consume,
          produce: shape.produce,
          key_filter: shape.keyFilterRemote !== null,
        },
      });
      return row;
    });
    return { accessKey: created, key };
  } catch (error) {
    if (isUniqueViolation(error))
      throw new DomainError('name_taken', `cluster ${clusterId} already has an access key named ${input.name}; pick another name or rotate that key`);
    throw error;
  }
}

export async function listAccessKeys(deps: Deps, ctx: RequestContext, orgId: string, clusterId: string, page: PageRequest) {
  await requireManagedCluster(deps, ctx, orgId, clusterId);
  return paginate(page, (args) =>
    deps.db.accessKey.findMany({ ...args, where: { AND: [{ orgId, clusterId }, args.where] }, select: presentedAccessKeyColumns }),
  );
}

async function requireAccessKey(deps: Deps, orgId: string, clusterId: string, name: string): Promise<PresentedAccessKey> {
  const key = await deps.db.accessKey.findFirst({ where: { orgId, clusterId, name }, select: presentedAccessKeyColumns });
  if (!key) throw notFound('access key', name);
  return key;
}

export async function getAccessKey(deps: Deps, ctx: RequestContext, orgId: string, clusterId: string, name: string) {
  await requireManagedCluster(deps, ctx, orgId, clusterId);
  return requireAccessKey(deps, orgId, clusterId, name);
}

export async function deleteAccessKey(deps: Deps, ctx: RequestContext, orgId: string, clusterId: string, name: string): Promise<void> {
  await requireManagedCluster(deps, ctx, orgId, clusterId);
  await runMutation(deps.store, async (tx, invalidate) => {
    const deleted = await tx.accessKey.findMany({ where: { orgId, clusterId, name }, select: { id: true } });
    const { count } = await tx.accessKey.deleteMany({ where: { id: { in: deleted.map((row) => row.id) } } });
    if (count === 0) throw notFound('access key', name);
    await recordAudit(tx, ctx, { orgId, action: 'access_key.deleted', target: name, details: { cluster_id: clusterId, name } });
    invalidate(
      'access_key',
      deleted.map((row) => row.id),
    );
  });
}

/**
 * A new key; the old one verifies until the grace period ends (0: it stops at once). Only the
 * key a rotation replaces gets a grace: a second rotation during a grace ends the first one.
 */
export async function rotateAccessKey(deps: Deps, ctx: RequestContext, orgId: string, clusterId: string, name: string, gracePeriodSeconds: number) {
  await requireManagedCluster(deps, ctx, orgId, clusterId);
  const existing = await deps.db.accessKey.findFirst({ where: { orgId, clusterId, name }, select: { id: true, secretHash: true } });
  if (!existing) throw notFound('access key', name);
  const key = generateAccessKey(existing.id);
  const secretHash = await deps.hasher.hash(key);
  const now = new Date();
  const previousKeyExpiresAt = gracePeriodSeconds > 0 ? new Date(now.getTime() + gracePeriodSeconds * 1000) : null;

  const accessKey = await runMutation(deps.store, async (tx, invalidate) => {
    // Compare-and-set on the hash: of two concurrent rotations, the second is refused, not merged.
    const { count } = await tx.accessKey.updateMany({
      where: { id: existing.id, secretHash: existing.secretHash },
      data: {
        secretHash,
        keyHint: secretHint(key),
        previousSecretHash: previousKeyExpiresAt ? existing.secretHash : null,
        previousSecretExpiresAt: previousKeyExpiresAt,
        rotatedAt: now,
      },
    });
    if (count !== 1) throw new DomainError('conflict', `access key ${name} changed while it was being rotated; retry`);
    await recordAudit(tx, ctx, {
      orgId,
      action: 'access_key.rotated',
      target: name,
      details: { cluster_id: clusterId, name, grace_period_seconds: gracePeriodSeconds, previous_key_expires_at: previousKeyExpiresAt?.toISOString() ?? null },
    });
    invalidate('access_key', [existing.id]);
    return tx.accessKey.findUniqueOrThrow({ where: { id: existing.id }, select: presentedAccessKeyColumns });
  });
  return { accessKey, key, previousKeyExpiresAt };
}

type AccessKeyVerifyCode = 'VALID' | 'INVALID' | 'WRONG_RESOURCE' | 'FORBIDDEN' | 'KEY_FILTER_REQUIRED' | 'KEY_FILTER_UNAVAILABLE';

export type AccessKeyVerifyResult =
  | { valid: false; code: Exclude<AccessKeyVerifyCode, 'VALID'> }
  | {
      valid: true;
      code: 'VALID';
      key: { name: string; protocol: 'simple' | 'fluvio'; topic: string | null; consume: boolean; produce: boolean };
      cluster_id: string;
      org_id: string;
      key_filter?: string;
    };

export interface VerifyAccessKeyInput {
  access_key: string;
  cluster_id: string;
  operation: 'consume' | 'produce' | 'fluvio';
  topic?: string | undefined;
  params?: Record<string, string> | undefined;
}

const INVALID: AccessKeyVerifyResult = { valid: false, code: 'INVALID' };

/**
 * The access-key hot path: malformed keys are refused before any I/O; a cached match costs a hash
 * and a cache lookup, answered synchronously (unless a remote key filter must be fetched); a miss
 * costs one argon2 run shared by concurrent callers. Unknown keys, wrong
 * keys and other organizations' keys are all INVALID; the other codes are told only to a caller who
 * presented the right key. The remote key filter is fetched after the hash check, outside the
 * argon2 limiter.
 */
export function verifyAccessKey(deps: Deps, ctx: RequestContext, input: VerifyAccessKeyInput): Eventually<AccessKeyVerifyResult> {
  const callerOrg = ctx.actor.kind === 'principal' ? ctx.actor.orgId : undefined;
  if (callerOrg !== undefined) authorize(ctx.actor, 'credential.verify', { orgId: callerOrg });
  const lookupId = accessKeyLookupId(input.access_key);
  if (!lookupId) return INVALID;

  // Failures count per (key, caller, address) and per address, so another tenant's wrong guesses
  // cannot lock the owner out. A limited caller gets no argon2 work for unknown keys, but is never
  // refused a key that matched here before (see AccessKeyVerifier.check).
  const caller = { id: actorId(ctx.actor), address: ctx.sourceIp };
  const limitId = `access_key:${lookupId}`;
  const retryAfterSeconds = deps.verifyFailures.retryAfter(limitId, caller);
  return andThen(deps.accessKeys.check(lookupId, input.access_key, retryAfterSeconds > 0), (check) => {
    if (check.outcome === 'throttled') {
      throw new DomainError('rate_limited', 'too many failed verifications of this access key by this caller, or from this address', { retryAfterSeconds });
    }
    if (check.outcome === 'invalid') {
      deps.verifyFailures.recordFailure(limitId, caller);
      return INVALID;
    }
    const { key } = check;
    if (callerOrg !== undefined && key.orgId !== callerOrg) return INVALID;
    if (key.clusterId !== input.cluster_id) return { valid: false, code: 'WRONG_RESOURCE' };
    if (!permits(key, input.operation, input.topic)) return { valid: false, code: 'FORBIDDEN' };
    if (input.operation === 'consume' && key.keyFilterRemote) return withKeyFilter(deps, key, key.keyFilterRemote, input.params);
    return validAnswer(deps, key, undefined);
  });
}

/** A consume with a remote key filter: VALID carries the filter fetched for the request's parameter. */
async function withKeyFilter(deps: Deps, key: MatchedAccessKey, remote: string, params: Record<string, string> | undefined): Promise<AccessKeyVerifyResult> {
  const colon = remote.indexOf(':');
  const param = remote.slice(0, colon);
  const value = params && Object.hasOwn(params, param) ? params[param] : undefined;
  if (value === undefined) return { valid: false, code: 'KEY_FILTER_REQUIRED' };
  const fetched = await deps.keyFilter.fetch(key.id, remote.slice(colon + 1), value);
  if (!fetched.ok) return { valid: false, code: 'KEY_FILTER_UNAVAILABLE' };
  return validAnswer(deps, key, fetched.filter);
}

/** VALID, and the key's use recorded. */
function validAnswer(deps: Deps, key: MatchedAccessKey, keyFilter: string | undefined): AccessKeyVerifyResult {
  deps.accessKeyUsage.touch(key.id);
  return {
    valid: true,
    code: 'VALID',
    key: { name: key.name, protocol: key.protocol, topic: key.topic, consume: key.consume, produce: key.produce },
    cluster_id: key.clusterId,
    org_id: key.orgId,
    ...(keyFilter !== undefined ? { key_filter: keyFilter } : {}),
  };
}

/** A fluvio key may do anything on its cluster; a simple key only its operations, on its topic. */
function permits(key: KeyShape, operation: VerifyAccessKeyInput['operation'], topic: string | undefined): boolean {
  if (key.protocol === 'fluvio') return true;
  if (operation === 'fluvio') return false;
  if (operation === 'consume' ? !key.consume : !key.produce) return false;
  return topic === undefined || topic === key.topic;
}
