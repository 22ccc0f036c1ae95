import type { RequestContext } from '../../auth/actor.js';
import { authorize } from '../../auth/policy.js';
import { newId } from '../../crypto/tokens.js';
import type { Deps } from '../../deps.js';
import { DomainError, notFound } from '../../errors.js';
import type { Principal, Prisma } from '../../generated/prisma/client.js';
import type { PrincipalKind } from '../../generated/prisma/enums.js';
import { type PageRequest, paginate } from '../../lib/pagination.js';
import { isUniqueViolation } from '../../store/errors.js';
import type { Db, Tx } from '../../store/index.js';
import { runMutation } from '../../store/mutation.js';
import { USAGE_WRITE_INTERVAL_MS } from '../api-keys/usage.js';
import { recordAudit } from '../audit/service.js';
import { removeClusterKeysOf } from '../cluster-keys/service.js';
import { orgSettings } from '../orgs/schemas.js';
import { requireOrg } from '../orgs/service.js';

const NOUN: Record<PrincipalKind, string> = { service_account: 'service account', user: 'user' };
const ID_PREFIX: Record<PrincipalKind, string> = { service_account: 'sa', user: 'u' };

/**
 * The principal if it belongs to the organization and is of this kind: a user's id under
 * /service-accounts (or the reverse) is absent (404), as is another organization's principal.
 */
async function requirePrincipal(db: Db | Tx, orgId: string, kind: PrincipalKind, principalId: string): Promise<Principal> {
  const principal = await db.principal.findFirst({ where: { id: principalId, orgId, kind } });
  if (!principal) throw notFound(NOUN[kind], principalId);
  return principal;
}

/**
 * Whether the principal exists in the organization, holding it (FOR KEY SHARE) until the caller's
 * transaction ends: a concurrent delete waits for what the caller attaches to it, then removes that too.
 */
export async function holdPrincipal(tx: Tx, orgId: string, principalId: string): Promise<boolean> {
  const rows = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM principals WHERE id = ${principalId} AND org_id = ${orgId} FOR KEY SHARE`;
  return rows.length > 0;
}

/**
 * Active API keys of the principal whose last use is at or after `since`: deleting their owner
 * would break a client that is probably still running. Revoked keys already broke it.
 */
async function recentlyUsedKeyIds(tx: Tx, principalId: string, since: Date): Promise<string[]> {
  const keys = await tx.apiKey.findMany({
    where: { ownerId: principalId, status: 'active', lastUsedAt: { gte: since } },
    select: { id: true },
    orderBy: { id: 'asc' },
  });
  const clusterKeys = await tx.clusterKey.findMany({
    where: { ownerId: principalId, revokedAt: null, lastUsedAt: { gte: since } },
    select: { id: true },
    orderBy: { id: 'asc' },
  });
  return [...keys, ...clusterKeys].map((key) => key.id);
}

async function createPrincipal(
  deps: Deps,
  ctx: RequestContext,
  orgId: string,
  kind: PrincipalKind,
  data: Omit<Prisma.PrincipalUncheckedCreateInput, 'id' | 'orgId' | 'kind'>,
  nameTaken: () => DomainError,
): Promise<Principal> {
  await requireOrg(deps.db, orgId);
  authorize(ctx.actor, 'principal.manage', { orgId });
  try {
    return await deps.db.$transaction(async (tx) => {
      const principal = await tx.principal.create({ data: { ...data, id: newId(ID_PREFIX[kind]), orgId, kind } });
      const details = kind === 'user' ? { email: principal.email } : { display_name: principal.displayName };
      await recordAudit(tx, ctx, { orgId, action: `${kind}.create`, target: principal.id, details });
      return principal;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken();
    throw error;
  }
}

async function listPrincipals(deps: Deps, ctx: RequestContext, orgId: string, kind: PrincipalKind, page: PageRequest, filter: Prisma.PrincipalWhereInput = {}) {
  await requireOrg(deps.db, orgId);
  authorize(ctx.actor, 'principal.read', { orgId });
  return paginate(page, (args) => deps.db.principal.findMany({ ...args, where: { AND: [{ orgId, kind }, filter, args.where] } }));
}

async function getPrincipal(deps: Deps, ctx: RequestContext, orgId: string, kind: PrincipalKind, principalId: string): Promise<Principal> {
  await requireOrg(deps.db, orgId);
  const principal = await requirePrincipal(deps.db, orgId, kind, principalId);
  authorize(ctx.actor, 'principal.read', { orgId });
  return principal;
}

async function updatePrincipal(
  deps: Deps,
  ctx: RequestContext,
  orgId: string,
  kind: PrincipalKind,
  principalId: string,
  data: Prisma.PrincipalUpdateManyMutationInput,
  fields: string[],
  nameTaken: () => DomainError,
): Promise<Principal> {
  await requireOrg(deps.db, orgId);
  const existing = await requirePrincipal(deps.db, orgId, kind, principalId);
  authorize(ctx.actor, 'principal.manage', { orgId });
  if (Object.keys(data).length === 0) return existing;
  try {
    return await deps.db.$transaction(async (tx) => {
      const { count } = await tx.principal.updateMany({ where: { id: principalId, orgId, kind }, data });
      if (count === 0) throw notFound(NOUN[kind], principalId);
      await recordAudit(tx, ctx, { orgId, action: `${kind}.update`, target: principalId, details: { fields } });
      return requirePrincipal(tx, orgId, kind, principalId);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken();
    throw error;
  }
}

/**
 * Deleting a principal deletes its API keys and role bindings (the foreign keys cascade). Because
 * that breaks every client still using those keys, keys used within the organization's
 * recent_use_hours make it a 409 unless forced.
 */
async function deletePrincipal(deps: Deps, ctx: RequestContext, orgId: string, kind: PrincipalKind, principalId: string, force: boolean): Promise<void> {
  const org = await requireOrg(deps.db, orgId);
  await requirePrincipal(deps.db, orgId, kind, principalId);
  authorize(ctx.actor, 'principal.manage', { orgId });
  const hours = orgSettings.parse(org.settings).recent_use_hours ?? deps.config.LATCHKEY_RECENT_USE_HOURS;
  // Usage writes are batched: this replica's pending uses are written first, and because a stored
  // last_used_at may trail the true last use by up to one write interval, the window is widened by
  // that much. Other replicas hold uses unwritten for at most their flush interval (250 ms).
  await deps.usage.flush();
  await deps.clusterKeyUsage.flush();
  const since = new Date(Date.now() - hours * 3_600_000 - USAGE_WRITE_INTERVAL_MS);
  await runMutation(deps.store, async (tx, invalidate) => {
    // FOR UPDATE waits for transactions creating keys or bindings for it, so none escapes the invalidation.
    const locked = await tx.$queryRaw<
      Array<{ id: string }>
    >`SELECT id FROM principals WHERE id = ${principalId} AND org_id = ${orgId} AND kind::text = ${kind} FOR UPDATE`;
    if (locked.length === 0) throw notFound(NOUN[kind], principalId);
    if (!force && hours > 0) {
      const recent = await recentlyUsedKeyIds(tx, principalId, since);
      if (recent.length > 0) {
        throw new DomainError(
          'recently_used',
          `${NOUN[kind]} ${principalId} has API keys used within the last ${hours} hours (${recent.join(', ')}); deleting it deletes them. Make sure no client still uses them, then retry with ?force=true`,
          { extra: { key_ids: recent } },
        );
      }
    }
    const keys = await tx.apiKey.findMany({ where: { orgId, ownerId: principalId }, select: { id: true }, orderBy: { id: 'asc' } });
    const bindings = await tx.roleBinding.count({ where: { orgId, principalId } });
    await removeClusterKeysOf(tx, ctx, invalidate, orgId, { ownerId: principalId });
    await tx.principal.delete({ where: { id: principalId } });
    await recordAudit(tx, ctx, {
      orgId,
      action: `${kind}.delete`,
      target: principalId,
      details: { force, api_keys_deleted: keys.map((key) => key.id), role_bindings_deleted: bindings },
    });
    invalidate(
      'api_key',
      keys.map((key) => key.id),
    );
  });
}

const serviceAccountNameTaken = (orgId: string, name: string | undefined) => () =>
  new DomainError('name_taken', `organization ${orgId} already has a service account named "${name}"; pick another display_name`);

export interface ServiceAccountInput {
  display_name?: string | undefined;
  description?: string | undefined;
}

export function createServiceAccount(deps: Deps, ctx: RequestContext, orgId: string, input: ServiceAccountInput & { display_name: string }) {
  const data = { displayName: input.display_name, description: input.description ?? '' };
  return createPrincipal(deps, ctx, orgId, 'service_account', data, serviceAccountNameTaken(orgId, input.display_name));
}

/** `displayNames`: only service accounts with one of these display names (Confluent's `display_name` filter). */
export const listServiceAccounts = (deps: Deps, ctx: RequestContext, orgId: string, page: PageRequest, displayNames?: string[]) =>
  listPrincipals(deps, ctx, orgId, 'service_account', page, displayNames ? { displayName: { in: displayNames } } : {});

export const getServiceAccount = (deps: Deps, ctx: RequestContext, orgId: string, saId: string) => getPrincipal(deps, ctx, orgId, 'service_account', saId);

export function updateServiceAccount(deps: Deps, ctx: RequestContext, orgId: string, saId: string, input: ServiceAccountInput) {
  const data = {
    ...(input.display_name !== undefined ? { displayName: input.display_name } : {}),
    ...(input.description !== undefined ? { description: input.description } : {}),
  };
  return updatePrincipal(deps, ctx, orgId, 'service_account', saId, data, Object.keys(input), serviceAccountNameTaken(orgId, input.display_name));
}

export const deleteServiceAccount = (deps: Deps, ctx: RequestContext, orgId: string, saId: string, force: boolean) =>
  deletePrincipal(deps, ctx, orgId, 'service_account', saId, force);

const emailTaken = (orgId: string, email: string | undefined) => () =>
  new DomainError('name_taken', `organization ${orgId} already has a user with email ${email}; each email may belong to one user`);

export interface UserInput {
  email?: string | undefined;
  full_name?: string | undefined;
}

export function createUser(deps: Deps, ctx: RequestContext, orgId: string, input: UserInput & { email: string }) {
  const data = { email: input.email, fullName: input.full_name ?? '' };
  return createPrincipal(deps, ctx, orgId, 'user', data, emailTaken(orgId, input.email));
}

export const listUsers = (deps: Deps, ctx: RequestContext, orgId: string, page: PageRequest) => listPrincipals(deps, ctx, orgId, 'user', page);

export const getUser = (deps: Deps, ctx: RequestContext, orgId: string, userId: string) => getPrincipal(deps, ctx, orgId, 'user', userId);

export function updateUser(deps: Deps, ctx: RequestContext, orgId: string, userId: string, input: UserInput) {
  const data = {
    ...(input.email !== undefined ? { email: input.email } : {}),
    ...(input.full_name !== undefined ? { fullName: input.full_name } : {}),
  };
  return updatePrincipal(deps, ctx, orgId, 'user', userId, data, Object.keys(input), emailTaken(orgId, input.email));
}

export const deleteUser = (deps: Deps, ctx: RequestContext, orgId: string, userId: string, force: boolean) =>
  deletePrincipal(deps, ctx, orgId, 'user', userId, force);
