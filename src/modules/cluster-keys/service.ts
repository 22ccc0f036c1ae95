import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Actor, RequestContext } from '../../auth/actor.js';
import { authorize, bindingTarget, isAllowed } from '../../auth/policy.js';
import type { Target } from '../../auth/roles.js';
import { publicUrlOf } from '../../config.js';
import { newId } from '../../crypto/tokens.js';
import type { Deps } from '../../deps.js';
import { DomainError, invalidField, notFound } from '../../errors.js';
import type { Prisma, SigningKey } from '../../generated/prisma/client.js';
import { andThen, type Eventually } from '../../lib/eventually.js';
import { type PageRequest, paginate } from '../../lib/pagination.js';
import type { Db, Tx } from '../../store/index.js';
import { type Invalidate, runMutation } from '../../store/mutation.js';
import { recordAudit } from '../audit/service.js';
import { orgSettings } from '../orgs/schemas.js';
import { requireOrg } from '../orgs/service.js';
import { holdPrincipal } from '../principals/service.js';
import { holdResource, resourceTarget } from '../resources/service.js';
import { type ClusterKeyRow, presentSigningKey } from './schemas.js';
import {
  activeSigningKey,
  CLUSTER_KEY_ALGORITHMS,
  type ClusterKeyAlgorithm,
  clusterSigningKeysOf,
  type NewSigningKey,
  newSigningKey,
  publicKeyPem,
} from './signing-keys.js';
import type { VerifiedClusterKey } from './verifier.js';

const DAY_MS = 86_400_000;
const presentedColumns = {
  id: true,
  name: true,
  ownerId: true,
  clusterId: true,
  description: true,
  createdAt: true,
  expiresAt: true,
  revokedAt: true,
  lastUsedAt: true,
} as const satisfies Prisma.ClusterKeySelect;

const issuerOf = (deps: Deps, orgId: string) => `${publicUrlOf(deps.config)}/v1/orgs/${orgId}`;

/**
 * Admins of the organization, of the cluster's environment or of the cluster manage any key;
 * the Developer roles only keys their holder owns (the same rule shape as API keys).
 */
function assertMayManage(actor: Actor, target: Target, ownerId: string): void {
  authorize(actor, 'cluster_key.manage', { ...target, ownerId });
}

const keyTarget = (key: { orgId: string; environmentId: string; clusterId: string }): Target => ({
  orgId: key.orgId,
  environmentId: key.environmentId,
  resourceId: key.clusterId,
});

/** OrganizationAdmins see every key; others their own and those of the clusters and environments they manage. */
function visibleTo(actor: Actor, orgId: string): Prisma.ClusterKeyWhereInput {
  if (actor.kind === 'root' || isAllowed(actor, 'cluster_key.manage', { orgId })) return {};
  const managing = actor.bindings.filter((b) => isAllowed({ ...actor, bindings: [b] }, 'cluster_key.manage', bindingTarget(b, orgId)));
  return {
    OR: [
      { ownerId: actor.principalId },
      { clusterId: { in: managing.filter((b) => b.scopeType === 'resource').map((b) => b.scopeId) } },
      { environmentId: { in: managing.filter((b) => b.scopeType === 'environment').map((b) => b.scopeId) } },
    ],
  };
}

async function findVisibleKey(db: Db | Tx, actor: Actor, orgId: string, keyId: string) {
  const key = await db.clusterKey.findFirst({ where: { AND: [{ id: keyId, orgId, listed: true }, visibleTo(actor, orgId)] } });
  if (!key) throw notFound('cluster key', keyId);
  return key;
}

/**
 * The signing key for a new token, created (and audited) on the organization's first cluster key
 * from `prepared`, a key pair generated before the transaction when none was active.
 */
async function signingKeyForNewToken(
  deps: Deps,
  tx: Tx,
  ctx: RequestContext,
  orgId: string,
  algorithm: ClusterKeyAlgorithm,
  prepared: NewSigningKey | undefined,
): Promise<SigningKey> {
  const active = await activeSigningKey(tx, orgId);
  if (active) return active;
  const created = await tx.signingKey.create({
    data: { ...(prepared ?? (await newSigningKey(deps.masterKey, orgId, algorithm, new Date()))), activateAt: new Date() },
  });
  await recordAudit(tx, ctx, { orgId, action: 'signing_key.created', target: created.kid, details: { algorithm: created.alg, reason: 'first cluster key' } });
  return created;
}

/** Serializes cluster-key and signing-key writes of one organization (name uniqueness, lazy key creation). */
async function lockOrganization(tx: Tx, orgId: string): Promise<void> {
  const rows = await tx.$queryRaw<unknown[]>`SELECT id FROM organizations WHERE id = ${orgId} FOR NO KEY UPDATE`;
  if (rows.length === 0) throw notFound('organization', orgId);
}

export interface CreateClusterKeyInput {
  name: string;
  owner: string;
  cluster_id: string;
  description?: string | undefined;
  expires_at?: string | null | undefined;
}

export async function createClusterKey(deps: Deps, ctx: RequestContext, orgId: string, input: CreateClusterKeyInput) {
  const org = await requireOrg(deps.db, orgId);
  const owner = await deps.db.principal.findFirst({ where: { id: input.owner, orgId } });
  if (!owner) throw invalidField('owner', `${input.owner} is not a service account of organization ${orgId}`);
  if (owner.kind !== 'service_account') {
    // StreamNative's rule: API keys are issued to service accounts, never to users.
    throw invalidField('owner', `${owner.id} is a user; API keys can only be created for service accounts`);
  }
  const cluster = await deps.db.resource.findFirst({ where: { id: input.cluster_id, orgId } });
  if (!cluster) throw invalidField('cluster_id', `${input.cluster_id} is not a pulsar_cluster of organization ${orgId}`);
  if (cluster.kind !== 'pulsar_cluster') throw invalidField('cluster_id', `${cluster.id} is a ${cluster.kind}; cluster keys are for pulsar_cluster resources`);
  assertMayManage(ctx.actor, resourceTarget(cluster), owner.id);

  const now = Date.now();
  // Whole seconds: the token's exp and the stored expires_at must be the same instant.
  const expiresAt =
    input.expires_at === null
      ? null
      : new Date(
          Math.floor((input.expires_at === undefined ? now + deps.config.LATCHKEY_CLUSTER_KEY_DEFAULT_DAYS * DAY_MS : Date.parse(input.expires_at)) / 1000) *
            1000,
        );
  if (expiresAt && expiresAt.getTime() <= now) throw invalidField('expires_at', 'must be in the future (or null for a key that never expires)');
  const algorithm = orgSettings.parse(org.settings).cluster_key_algorithm ?? 'RS256';

  const id = newId('ck');
  const prepared = (await activeSigningKey(deps.db, orgId)) ? undefined : await newSigningKey(deps.masterKey, orgId, algorithm, new Date());
  const { key, signing } = await deps.db.$transaction(async (tx) => {
    await lockOrganization(tx, orgId);
    if (!(await holdPrincipal(tx, orgId, owner.id))) throw invalidField('owner', `${owner.id} was deleted`);
    if (!(await holdResource(tx, orgId, cluster.id))) throw invalidField('cluster_id', `${cluster.id} was deleted`);
    if ((await tx.clusterKey.count({ where: { orgId, name: input.name, listed: true } })) > 0) {
      throw new DomainError('name_taken', `organization ${orgId} already has a cluster key named "${input.name}"; pick another name`);
    }
    const signing = await signingKeyForNewToken(deps, tx, ctx, orgId, algorithm, prepared);
    const key = await tx.clusterKey.create({
      data: {
        id,
        orgId,
        name: input.name,
        description: input.description ?? '',
        ownerId: owner.id,
        clusterId: cluster.id,
        environmentId: cluster.environmentId,
        kid: signing.kid,
        expiresAt,
      },
      select: presentedColumns,
    });
    await recordAudit(tx, ctx, {
      orgId,
      action: 'cluster_key.created',
      target: id,
      details: { name: input.name, owner: owner.id, cluster_id: cluster.id, kid: signing.kid, expires_at: expiresAt?.toISOString() ?? null },
    });
    return { key, signing };
  });
  // Signed after the commit: the token is handed out only once its jti is stored.
  const issuedAt = Math.floor(now / 1000);
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'JWT' })
    .setIssuer(issuerOf(deps, orgId))
    .setSubject(owner.id)
    .setAudience(cluster.id)
    .setJti(id)
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt);
  if (expiresAt) jwt = jwt.setExpirationTime(expiresAt.getTime() / 1000);
  const token = await jwt.sign(await deps.clusterSigningKeys.privateKey(signing));
  return { key, token };
}

export interface ClusterKeyFilters {
  owner?: string | undefined;
  cluster_id?: string | undefined;
  status?: 'active' | 'revoked' | 'expired' | undefined;
}

function statusWhere(status: ClusterKeyFilters['status'], now: Date): Prisma.ClusterKeyWhereInput {
  switch (status) {
    case undefined:
      return {};
    case 'revoked':
      return { revokedAt: { not: null } };
    case 'expired':
      return { revokedAt: null, expiresAt: { lte: now } };
    case 'active':
      return { revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] };
  }
}

export async function listClusterKeys(deps: Deps, ctx: RequestContext, orgId: string, filters: ClusterKeyFilters, page: PageRequest) {
  await requireOrg(deps.db, orgId);
  const where: Prisma.ClusterKeyWhereInput = {
    orgId,
    listed: true,
    ...(filters.owner ? { ownerId: filters.owner } : {}),
    ...(filters.cluster_id ? { clusterId: filters.cluster_id } : {}),
  };
  const scoped = { AND: [where, statusWhere(filters.status, new Date()), visibleTo(ctx.actor, orgId)] };
  return paginate(page, (args) => deps.db.clusterKey.findMany({ ...args, where: { AND: [scoped, args.where] }, select: presentedColumns }));
}

export async function getClusterKey(deps: Deps, ctx: RequestContext, orgId: string, keyId: string): Promise<ClusterKeyRow> {
  await requireOrg(deps.db, orgId);
  return findVisibleKey(deps.db, ctx.actor, orgId, keyId);
}

/** Revoked keys stay listed (status revoked) for the retention period; repeating a revoke changes nothing. */
export async function revokeClusterKey(deps: Deps, ctx: RequestContext, orgId: string, keyId: string): Promise<ClusterKeyRow> {
  await requireOrg(deps.db, orgId);
  const existing = await findVisibleKey(deps.db, ctx.actor, orgId, keyId);
  assertMayManage(ctx.actor, keyTarget(existing), existing.ownerId);
  if (existing.revokedAt) return existing;
  const now = new Date();
  return runMutation(deps.store, async (tx, invalidate) => {
    const { count } = await tx.clusterKey.updateMany({
      where: { id: keyId, orgId, revokedAt: null },
      data: { revokedAt: now, purgeAfter: new Date(now.getTime() + deps.config.LATCHKEY_REVOKED_KEY_RETENTION_DAYS * DAY_MS) },
    });
    if (count === 1) {
      await recordAudit(tx, ctx, { orgId, action: 'cluster_key.revoked', target: keyId, details: { name: existing.name, cluster_id: existing.clusterId } });
      invalidate('cluster_key', [keyId]);
    }
    return tx.clusterKey.findUniqueOrThrow({ where: { id: keyId }, select: presentedColumns });
  });
}

/** Deleting revokes and unlists at once; the row stays as the revocation list entry until the token expires. */
export async function deleteClusterKey(deps: Deps, ctx: RequestContext, orgId: string, keyId: string): Promise<void> {
  await requireOrg(deps.db, orgId);
  const existing = await findVisibleKey(deps.db, ctx.actor, orgId, keyId);
  assertMayManage(ctx.actor, keyTarget(existing), existing.ownerId);
  await runMutation(deps.store, async (tx, invalidate) => {
    const ids = await removeClusterKeys(tx, { id: keyId, orgId });
    if (ids.length === 0) throw notFound('cluster key', keyId);
    await recordAudit(tx, ctx, { orgId, action: 'cluster_key.deleted', target: keyId, details: { name: existing.name, cluster_id: existing.clusterId } });
    invalidate('cluster_key', ids);
  });
}

/** Revokes (if not yet) and unlists the listed keys matching `where`; returns their ids. */
async function removeClusterKeys(tx: Tx, where: Prisma.ClusterKeyWhereInput): Promise<string[]> {
  const rows = await tx.clusterKey.findMany({ where: { AND: [where, { listed: true }] }, select: { id: true }, orderBy: { id: 'asc' } });
  const ids = rows.map((row) => row.id);
  if (ids.length === 0) return ids;
  const now = new Date();
  await tx.clusterKey.updateMany({ where: { id: { in: ids }, revokedAt: null }, data: { revokedAt: now } });
  await tx.clusterKey.updateMany({ where: { id: { in: ids } }, data: { listed: false, purgeAfter: now } });
  return ids;
}

/**
 * Deleting a service account or a cluster revokes and removes its cluster keys inside the same
 * transaction, one audit event per key, and tells every replica.
 */
export async function removeClusterKeysOf(
  tx: Tx,
  ctx: RequestContext,
  invalidate: Invalidate,
  orgId: string,
  of: { ownerId: string } | { clusterId: string },
): Promise<string[]> {
  const ids = await removeClusterKeys(tx, { orgId, ...of });
  const reason = 'ownerId' in of ? `owner ${of.ownerId} deleted` : `cluster ${of.clusterId} deleted`;
  for (const id of ids) await recordAudit(tx, ctx, { orgId, action: 'cluster_key.deleted', target: id, details: { reason } });
  invalidate('cluster_key', ids);
  return ids;
}

/** Every key id of an organization about to be deleted (the rows cascade): caches must drop them. */
export async function clusterKeyIdsOf(tx: Tx, orgId: string): Promise<string[]> {
  return (await tx.clusterKey.findMany({ where: { orgId }, select: { id: true } })).map((row) => row.id);
}

/**
 * The periodic purge: revoked keys past their retention leave the listings; rows whose token has
 * expired are deleted (their jti no longer needs to be on the revocation list).
 */
export async function purgeClusterKeys(deps: Deps, now = new Date()): Promise<{ unlisted: number; deleted: number }> {
  const unlisted = await deps.db.clusterKey.updateMany({
    where: { listed: true, revokedAt: { not: null }, purgeAfter: { lte: now } },
    data: { listed: false },
  });
  const deleted = await deps.db.clusterKey.deleteMany({ where: { listed: false, revokedAt: { not: null }, expiresAt: { lte: now } } });
  return { unlisted: unlisted.count, deleted: deleted.count };
}

export async function revocationFeed(deps: Deps, ctx: RequestContext, orgId: string, clusterId: string | undefined) {
  await requireOrg(deps.db, orgId);
  const cluster = clusterId ? await deps.db.resource.findFirst({ where: { id: clusterId, orgId } }) : null;
  authorize(ctx.actor, 'cluster_key.read_revocations', cluster ? resourceTarget(cluster) : { orgId });
  const now = new Date();
  const rows = await deps.db.clusterKey.findMany({
    where: { orgId, revokedAt: { not: null }, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }], ...(clusterId ? { clusterId } : {}) },
    select: { id: true, clusterId: true, revokedAt: true, expiresAt: true },
    orderBy: [{ revokedAt: 'asc' }, { id: 'asc' }],
  });
  return {
    data: rows.map((row) => ({
      id: row.id,
      cluster_id: row.clusterId,
      revoked_at: row.revokedAt!.toISOString(),
      expires_at: row.expiresAt?.toISOString() ?? null,
    })),
  };
}

// ---- signing keys and public discovery

async function requireOrgExists(db: Db, orgId: string): Promise<void> {
  if (!(await db.organization.findUnique({ where: { id: orgId }, select: { id: true } }))) throw notFound('organization', orgId);
}

export async function listSigningKeys(deps: Deps, ctx: RequestContext, orgId: string) {
  await requireOrg(deps.db, orgId);
  authorize(ctx.actor, 'signing_key.manage', { orgId });
  const [keys, active] = await Promise.all([
    deps.db.signingKey.findMany({ where: clusterSigningKeysOf(orgId), orderBy: [{ createdAt: 'asc' }, { kid: 'asc' }] }),
    activeSigningKey(deps.db, orgId),
  ]);
  return { data: keys.map((key) => presentSigningKey(key, active?.kid ?? null)), next_page_token: null };
}

export async function createSigningKey(
  deps: Deps,
  ctx: RequestContext,
  orgId: string,
  input: { activate_at?: string | undefined; algorithm?: ClusterKeyAlgorithm | undefined },
) {
  const org = await requireOrg(deps.db, orgId);
  authorize(ctx.actor, 'signing_key.manage', { orgId });
  const now = Date.now();
  const activateAt = input.activate_at ? new Date(input.activate_at) : new Date(now);
  // A minute of slack for clocks; an activation further in the past would rewrite history.
  if (activateAt.getTime() < now - 60_000) throw invalidField('activate_at', 'must not be in the past (omit it to activate now)');
  const algorithm = input.algorithm ?? orgSettings.parse(org.settings).cluster_key_algorithm ?? 'RS256';
  if (!CLUSTER_KEY_ALGORITHMS.includes(algorithm)) throw invalidField('algorithm', `must be one of ${CLUSTER_KEY_ALGORITHMS.join(', ')}`);
  const prepared = await newSigningKey(deps.masterKey, orgId, algorithm, activateAt);
  const created = await deps.db.$transaction(async (tx) => {
    await lockOrganization(tx, orgId);
    const key = await tx.signingKey.create({ data: prepared });
    await recordAudit(tx, ctx, { orgId, action: 'signing_key.created', target: key.kid, details: { algorithm, activate_at: activateAt.toISOString() } });
    return key;
  });
  const active = await activeSigningKey(deps.db, orgId);
  return presentSigningKey(created, active?.kid ?? null);
}

/**
 * Every key a live token may carry: the active key, keys not active yet (so brokers that cache the
 * JWKS see them first), and older keys while an unexpired, unrevoked token was signed with them.
 */
export async function jwks(deps: Deps, orgId: string) {
  await requireOrgExists(deps.db, orgId);
  const now = new Date();
  const [keys, active, live] = await Promise.all([
    deps.db.signingKey.findMany({ where: clusterSigningKeysOf(orgId), orderBy: [{ createdAt: 'asc' }, { kid: 'asc' }] }),
    activeSigningKey(deps.db, orgId, now),
    deps.db.clusterKey.findMany({
      where: { orgId, revokedAt: null, OR: [{ expiresAt: null }, { expiresAt: { gt: now } }] },
      distinct: ['kid'],
      select: { kid: true },
    }),
  ]);
  const liveKids = new Set(live.map((row) => row.kid));
  const published = keys.filter((key) => key.kid === active?.kid || (key.activateAt ?? key.createdAt) > now || liveKids.has(key.kid));
  return { keys: published.map((key) => key.publicJwk as Record<string, unknown>) };
}

export async function openIdConfiguration(deps: Deps, orgId: string) {
  await requireOrgExists(deps.db, orgId);
  const issuer = issuerOf(deps, orgId);
  return {
    issuer,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    id_token_signing_alg_values_supported: [...CLUSTER_KEY_ALGORITHMS],
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    claims_supported: ['iss', 'sub', 'aud', 'jti', 'iat', 'nbf', 'exp'],
  };
}

export async function activePublicKeyPem(deps: Deps, orgId: string): Promise<string> {
  await requireOrgExists(deps.db, orgId);
  const active = await activeSigningKey(deps.db, orgId);
  if (!active) {
    throw new DomainError(
      'not_found',
      `organization ${orgId} has no cluster-key signing key yet; it is created with the first cluster key or by POST /v1/orgs/${orgId}/cluster-keys/signing-keys`,
    );
  }
  return publicKeyPem(active);
}

/** A strong validator of a representation: changes whenever its bytes do. */
export const etagOf = (body: string) => `"${createHash('sha256').update(body).digest('base64url')}"`;

// ---- verification

export type ClusterKeyVerifyResult =
  | { valid: false; code: 'INVALID' | 'EXPIRED' | 'REVOKED' | 'WRONG_RESOURCE' }
  | {
      valid: true;
      code: 'VALID';
      key: { id: string; name: string; cluster_id: string; expires_at: string | null };
      principal: { id: string; type: 'service_account' };
      org_id: string;
    };

const INVALID: ClusterKeyVerifyResult = { valid: false, code: 'INVALID' };
/** Clock skew forgiven for nbf only; exp is exact. */
const NBF_TOLERANCE_SECONDS = 60;

/**
 * Cache (or one signature check) → revocation set → expiry → audience → record use. A token of
 * another organization, or of one where the caller is no Verifier, is INVALID: never 403, so a
 * caller learns nothing about tokens it may not check.
 */
export function verifyClusterKey(deps: Deps, ctx: RequestContext, input: { token: string; cluster_id: string }): Eventually<ClusterKeyVerifyResult> {
  return andThen(deps.clusterKeyVerifier.check(input.token), (check) => {
    if (check.outcome === 'invalid') return INVALID;
    const orgId = check.outcome === 'expired' ? check.orgId : check.key.orgId;
    if (ctx.actor.kind === 'principal' && !isAllowed(ctx.actor, 'credential.verify', { orgId })) return INVALID;
    if (check.outcome === 'expired') return { valid: false, code: 'EXPIRED' };
    const { key } = check;
    return andThen(deps.clusterKeyVerifier.isRevoked(orgId, key.jti), (revoked) =>
      revoked ? { valid: false, code: 'REVOKED' } : answerOf(deps, key, input.cluster_id),
    );
  });
}

/** The answer for a verified, unrevoked key of an organization the caller may verify for. */
function answerOf(deps: Deps, key: VerifiedClusterKey, clusterId: string): ClusterKeyVerifyResult {
  const orgId = key.orgId;
  const nowSeconds = Date.now() / 1000;
  if (key.exp !== null && nowSeconds >= key.exp) return { valid: false, code: 'EXPIRED' };
  if (key.nbf !== null && nowSeconds + NBF_TOLERANCE_SECONDS < key.nbf) return INVALID;
  if (key.aud !== clusterId) return { valid: false, code: 'WRONG_RESOURCE' };
  deps.clusterKeyUsage.touch(key.jti);
  return {
    valid: true,
    code: 'VALID',
    key: { id: key.jti, name: key.name, cluster_id: key.aud, expires_at: key.expiresAt },
    principal: { id: key.sub, type: 'service_account' },
    org_id: orgId,
  };
}
