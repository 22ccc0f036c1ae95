import type { RequestContext } from '../../auth/actor.js';
import { authorize } from '../../auth/policy.js';
import { newId } from '../../crypto/tokens.js';
import type { Deps } from '../../deps.js';
import { DomainError, notFound } from '../../errors.js';
import type { Organization } from '../../generated/prisma/client.js';
import { type PageRequest, paginate } from '../../lib/pagination.js';
import { isUniqueViolation } from '../../store/errors.js';
import type { Db, Tx } from '../../store/index.js';
import { runMutation } from '../../store/mutation.js';
import { recordAudit } from '../audit/service.js';
import { clusterKeyIdsOf } from '../cluster-keys/service.js';
import { type OrgSettings, type OrgSettingsPatch, orgSettings } from './schemas.js';

/**
 * The organization, if it exists; 404 otherwise. Tenancy is settled before a service runs: the auth
 * plugin answers another organization's :org_id with 404, and authorize() checks every target.
 */
export async function requireOrg(db: Db | Tx, orgId: string): Promise<Organization> {
  const org = await db.organization.findUnique({ where: { id: orgId } });
  if (!org) throw notFound('organization', orgId);
  return org;
}

export async function createOrganization(
  deps: Deps,
  ctx: RequestContext,
  input: { name: string; display_name?: string | undefined; settings?: OrgSettings | undefined },
): Promise<Organization> {
  try {
    return await deps.db.$transaction(async (tx) => {
      const org = await tx.organization.create({
        data: { id: newId('org'), name: input.name, displayName: input.display_name ?? input.name, settings: input.settings ?? {} },
      });
      await recordAudit(tx, ctx, { orgId: org.id, action: 'organization.create', target: org.id, details: { name: org.name } });
      return org;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new DomainError('name_taken', `an organization named ${input.name} already exists; pick another name`);
    throw error;
  }
}

/** Root sees every organization; a principal sees its own. */
export async function listOrganizations(deps: Deps, ctx: RequestContext, page: PageRequest) {
  const own = ctx.actor.kind === 'principal' ? { id: ctx.actor.orgId } : {};
  return paginate(page, (args) => deps.db.organization.findMany({ ...args, where: { AND: [own, args.where] } }));
}

export async function getOrganization(deps: Deps, ctx: RequestContext, orgId: string): Promise<Organization> {
  const org = await requireOrg(deps.db, orgId);
  authorize(ctx.actor, 'org.read', { orgId });
  return org;
}

export async function updateOrganization(
  deps: Deps,
  ctx: RequestContext,
  orgId: string,
  input: { display_name?: string | undefined; settings?: OrgSettingsPatch | undefined },
): Promise<Organization> {
  await requireOrg(deps.db, orgId);
  authorize(ctx.actor, 'org.update', { orgId });
  return deps.db.$transaction(async (tx) => {
    let settings: OrgSettings | undefined;
    if (input.settings !== undefined) {
      // Locked, so two concurrent patches of different settings both survive the merge.
      const locked = await tx.$queryRaw<Array<{ settings: unknown }>>`SELECT settings FROM organizations WHERE id = ${orgId} FOR UPDATE`;
      if (locked.length === 0) throw notFound('organization', orgId);
      settings = mergeSettings(orgSettings.parse(locked[0]!.settings), input.settings);
    }
    const org = await tx.organization.update({
      where: { id: orgId },
      data: {
        ...(input.display_name !== undefined ? { displayName: input.display_name } : {}),
        ...(settings !== undefined ? { settings } : {}),
      },
    });
    await recordAudit(tx, ctx, { orgId, action: 'organization.update', target: orgId, details: { fields: Object.keys(input) } });
    return org;
  });
}

function mergeSettings(current: OrgSettings, patch: OrgSettingsPatch): OrgSettings {
  const merged: Record<string, unknown> = { ...current };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete merged[name];
    else if (value !== undefined) merged[name] = value;
  }
  return orgSettings.parse(merged);
}

/**
 * Deleting a tenant removes everything it owns. Because that is rarely meant, an organization that
 * still holds environments or principals needs `force`.
 */
export async function deleteOrganization(deps: Deps, ctx: RequestContext, orgId: string, force: boolean): Promise<void> {
  await requireOrg(deps.db, orgId);
  authorize(ctx.actor, 'org.delete', { orgId });
  await runMutation(deps.store, async (tx, invalidate) => {
    // Of concurrent deletes, one deletes and audits; the others wait here, then find nothing (404).
    const locked = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM organizations WHERE id = ${orgId} FOR UPDATE`;
    if (locked.length === 0) throw notFound('organization', orgId);
    if (!force) {
      const [environments, principals] = await Promise.all([tx.environment.count({ where: { orgId } }), tx.principal.count({ where: { orgId } })]);
      if (environments + principals > 0) {
        throw new DomainError(
          'not_empty',
          `organization ${orgId} still holds ${environments} environment(s) and ${principals} principal(s); delete them first or pass ?force=true`,
        );
      }
    }
    const keys = await tx.apiKey.findMany({ where: { orgId }, select: { id: true } });
    // Cluster keys and signing keys cascade with the organization; their tokens stop verifying everywhere.
    const clusterKeys = await clusterKeyIdsOf(tx, orgId);
    // kdb Insights clients go with the organization (foreign keys cascade); their cached details too.
    const clients = await tx.clientEnrollment.findMany({ where: { orgId }, select: { lookupId: true } });
    await tx.organization.delete({ where: { id: orgId } });
    await recordAudit(tx, ctx, {
      orgId,
      action: 'organization.delete',
      target: orgId,
      details: { force, api_keys_deleted: keys.length, cluster_keys_deleted: clusterKeys.length },
    });
    invalidate(
      'api_key',
      keys.map((key) => key.id),
    );
    invalidate('cluster_key', clusterKeys);
    invalidate(
      'client',
      clients.map((client) => client.lookupId),
    );
  });
}
