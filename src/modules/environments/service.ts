import type { RequestContext } from '../../auth/actor.js';
import { authorize } from '../../auth/policy.js';
import { newId } from '../../crypto/tokens.js';
import type { Deps } from '../../deps.js';
import { DomainError, notFound } from '../../errors.js';
import type { Environment } from '../../generated/prisma/client.js';
import { type PageRequest, paginate } from '../../lib/pagination.js';
import { isUniqueViolation } from '../../store/errors.js';
import type { Db, Tx } from '../../store/index.js';
import { recordAudit } from '../audit/service.js';
import { requireOrg } from '../orgs/service.js';

const nameTaken = (orgId: string, name: string) =>
  new DomainError('name_taken', `organization ${orgId} already has an environment named "${name}"; pick another display_name`);

/** The environment if it belongs to the organization; another organization's is absent (404). */
async function requireEnvironment(db: Db | Tx, orgId: string, envId: string): Promise<Environment> {
  const environment = await db.environment.findFirst({ where: { id: envId, orgId } });
  if (!environment) throw notFound('environment', envId);
  return environment;
}

/**
 * Whether the environment exists in the organization, holding it (FOR KEY SHARE) until the caller's
 * transaction ends: a concurrent delete then waits for what the caller puts inside it and sees it,
 * instead of cascading over it or failing it with a foreign key error.
 */
export async function holdEnvironment(tx: Tx, orgId: string, envId: string): Promise<boolean> {
  const rows = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM environments WHERE id = ${envId} AND org_id = ${orgId} FOR KEY SHARE`;
  return rows.length > 0;
}

export async function createEnvironment(deps: Deps, ctx: RequestContext, orgId: string, input: { display_name: string }): Promise<Environment> {
  await requireOrg(deps.db, orgId);
  authorize(ctx.actor, 'environment.manage', { orgId });
  try {
    return await deps.db.$transaction(async (tx) => {
      const environment = await tx.environment.create({ data: { id: newId('env'), orgId, displayName: input.display_name } });
      await recordAudit(tx, ctx, { orgId, action: 'environment.create', target: environment.id, details: { display_name: environment.displayName } });
      return environment;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(orgId, input.display_name);
    throw error;
  }
}

export async function listEnvironments(deps: Deps, ctx: RequestContext, orgId: string, page: PageRequest) {
  await requireOrg(deps.db, orgId);
  authorize(ctx.actor, 'environment.read', { orgId });
  return paginate(page, (args) => deps.db.environment.findMany({ ...args, where: { AND: [{ orgId }, args.where] } }));
}

export async function getEnvironment(deps: Deps, ctx: RequestContext, orgId: string, envId: string): Promise<Environment> {
  await requireOrg(deps.db, orgId);
  const environment = await requireEnvironment(deps.db, orgId, envId);
  authorize(ctx.actor, 'environment.read', { orgId, environmentId: envId });
  return environment;
}

export async function updateEnvironment(
  deps: Deps,
  ctx: RequestContext,
  orgId: string,
  envId: string,
  input: { display_name?: string | undefined },
): Promise<Environment> {
  await requireOrg(deps.db, orgId);
  const existing = await requireEnvironment(deps.db, orgId, envId);
  authorize(ctx.actor, 'environment.manage', { orgId, environmentId: envId });
  const displayName = input.display_name;
  if (displayName === undefined) return existing;
  try {
    return await deps.db.$transaction(async (tx) => {
      const { count } = await tx.environment.updateMany({ where: { id: envId, orgId }, data: { displayName } });
      if (count === 0) throw notFound('environment', envId);
      await recordAudit(tx, ctx, { orgId, action: 'environment.update', target: envId, details: { fields: Object.keys(input) } });
      return requireEnvironment(tx, orgId, envId);
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken(orgId, displayName);
    throw error;
  }
}

const listIds = (ids: string[], total: number) => ids.join(', ') + (total > ids.length ? `, … (${total - ids.length} more)` : '');
const SHOWN_IDS = 5;

/**
 * Only an empty environment may be deleted: its resources and live Flink keys would otherwise vanish
 * with it. Role bindings on it and revoked Flink keys are removed, as they grant nothing.
 */
export async function deleteEnvironment(deps: Deps, ctx: RequestContext, orgId: string, envId: string): Promise<void> {
  await requireOrg(deps.db, orgId);
  await requireEnvironment(deps.db, orgId, envId);
  authorize(ctx.actor, 'environment.manage', { orgId, environmentId: envId });
  await deps.db.$transaction(async (tx) => {
    // FOR UPDATE waits for transactions creating something inside it (they hold it FOR KEY SHARE).
    const locked = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM environments WHERE id = ${envId} AND org_id = ${orgId} FOR UPDATE`;
    if (locked.length === 0) throw notFound('environment', envId);
    const where = { orgId, environmentId: envId };
    // Revoked keys are history, not contents: they go with the environment (the foreign key cascades).
    const liveKeys = { ...where, status: 'active' as const };
    const [resources, resourceCount, keys, keyCount] = await Promise.all([
      tx.resource.findMany({ where, select: { id: true }, orderBy: { id: 'asc' }, take: SHOWN_IDS }),
      tx.resource.count({ where }),
      tx.apiKey.findMany({ where: liveKeys, select: { id: true }, orderBy: { id: 'asc' }, take: SHOWN_IDS }),
      tx.apiKey.count({ where: liveKeys }),
    ]);
    if (resourceCount + keyCount > 0) {
      const inside = [
        ...(resourceCount > 0
          ? [
              `${resourceCount} resource(s) (${listIds(
                resources.map((r) => r.id),
                resourceCount,
              )})`,
            ]
          : []),
        ...(keyCount > 0
          ? [
              `${keyCount} API key(s) (${listIds(
                keys.map((k) => k.id),
                keyCount,
              )})`,
            ]
          : []),
      ];
      throw new DomainError('not_empty', `environment ${envId} still holds ${inside.join(' and ')}; delete them first`);
    }
    const bindings = await tx.roleBinding.deleteMany({ where: { orgId, scopeType: 'environment', scopeId: envId } });
    await tx.environment.delete({ where: { id: envId } });
    await recordAudit(tx, ctx, { orgId, action: 'environment.delete', target: envId, details: { role_bindings_deleted: bindings.count } });
  });
}
