import type { RequestContext } from '../../auth/actor.js';
import { assertAllowed } from '../../auth/policy.js';
import { newId } from '../../crypto/tokens.js';
import type { Deps } from '../../deps.js';
import { DomainError, type FieldError, invalidField, notFound } from '../../errors.js';
import type { Resource } from '../../generated/prisma/client.js';
import type { ResourceKind } from '../../generated/prisma/enums.js';
import { type PageRequest, paginate } from '../../lib/pagination.js';
import type { Db, Tx } from '../../store/index.js';
import { runMutation } from '../../store/mutation.js';
import { recordAudit } from '../audit/service.js';
import { removeClusterKeysOf } from '../cluster-keys/service.js';
import { holdEnvironment } from '../environments/service.js';
import { requireOrg } from '../orgs/service.js';
import { RESOURCE_ID_PREFIX } from './schemas.js';

/** The resource if it belongs to the organization; another organization's is absent (404). */
export async function requireResource(db: Db | Tx, orgId: string, resourceId: string): Promise<Resource> {
  const resource = await db.resource.findFirst({ where: { id: resourceId, orgId } });
  if (!resource) throw notFound('resource', resourceId);
  return resource;
}

/**
 * The resource if it exists in the organization, held (FOR KEY SHARE) until the caller's transaction
 * ends, so that a concurrent delete waits for what the caller attaches to it and then removes that too.
 */
export async function holdResource(tx: Tx, orgId: string, resourceId: string): Promise<{ id: string; environmentId: string } | null> {
  const rows = await tx.$queryRaw<Array<{ id: string; environment_id: string }>>`SELECT id, environment_id FROM resources WHERE id = ${resourceId} AND org_id = ${orgId} FOR KEY SHARE`;
  const row = rows[0];
  return row ? { id: row.id, environmentId: row.environment_id } : null;
}

/** The authorization target of a resource: bindings on its environment or organization cover it too. */
export const resourceTarget = (resource: { orgId: string; environmentId: string; id: string }) => ({
  orgId: resource.orgId,
  environmentId: resource.environmentId,
  resourceId: resource.id,
});

export interface CreateResourceInput {
  kind: ResourceKind;
  display_name: string;
  environment_id: string;
  cloud?: string | undefined;
  region?: string | undefined;
}

export async function createResource(deps: Deps, ctx: RequestContext, orgId: string, input: CreateResourceInput): Promise<Resource> {
  await requireOrg(deps.db, ctx.actor, orgId);
  return deps.db.$transaction(async (tx) => {
    if (!(await holdEnvironment(tx, orgId, input.environment_id))) {
      throw invalidField(
        'environment_id',
        `${input.environment_id} is not an environment of organization ${orgId}; create it first or pick one from GET /v1/orgs/${orgId}/environments`,
      );
    }
    assertAllowed(ctx.actor, 'resource.manage', { orgId, environmentId: input.environment_id });
    const resource = await tx.resource.create({
      data: {
        id: newId(RESOURCE_ID_PREFIX[input.kind]),
        orgId,
        environmentId: input.environment_id,
        kind: input.kind,
        displayName: input.display_name,
        cloud: input.cloud ?? null,
        region: input.region ?? null,
      },
    });
    await recordAudit(tx, ctx, {
      orgId,
      action: 'resource.create',
      target: resource.id,
      details: { kind: resource.kind, environment_id: resource.environmentId, display_name: resource.displayName },
    });
    return resource;
  });
}

export interface ResourceFilters {
  kind?: ResourceKind | undefined;
  environment_id?: string | undefined;
}

export async function listResources(deps: Deps, ctx: RequestContext, orgId: string, filters: ResourceFilters, page: PageRequest) {
  await requireOrg(deps.db, ctx.actor, orgId);
  assertAllowed(ctx.actor, 'resource.read', { orgId });
  const where = {
    orgId,
    ...(filters.kind ? { kind: filters.kind } : {}),
    ...(filters.environment_id ? { environmentId: filters.environment_id } : {}),
  };
  return paginate(page, (args) => deps.db.resource.findMany({ ...args, where: { AND: [where, args.where] } }));
}

export async function getResource(deps: Deps, ctx: RequestContext, orgId: string, resourceId: string): Promise<Resource> {
  await requireOrg(deps.db, ctx.actor, orgId);
  const resource = await requireResource(deps.db, orgId, resourceId);
  assertAllowed(ctx.actor, 'resource.read', resourceTarget(resource));
  return resource;
}

export interface UpdateResourceInput {
  display_name?: string | undefined;
  cloud?: string | null | undefined;
  region?: string | null | undefined;
  kind?: unknown;
  environment_id?: unknown;
}

export async function updateResource(
  deps: Deps,
  ctx: RequestContext,
  orgId: string,
  resourceId: string,
  input: UpdateResourceInput,
): Promise<Resource> {
  await requireOrg(deps.db, ctx.actor, orgId);
  const immutable: FieldError[] = (['kind', 'environment_id'] as const)
    .filter((field) => input[field] !== undefined)
    .map((path) => ({ path, message: 'cannot be changed after creation' }));
  if (immutable.length > 0) {
    const fields = immutable.map((e) => e.path).join(' and ');
    throw new DomainError('immutable_field', `${fields} of a resource cannot be changed; create a new resource instead`, { errors: immutable });
  }
  const existing = await requireResource(deps.db, orgId, resourceId);
  assertAllowed(ctx.actor, 'resource.manage', resourceTarget(existing));
  const { display_name, cloud, region } = input;
  const data = {
    ...(display_name !== undefined ? { displayName: display_name } : {}),
    ...(cloud !== undefined ? { cloud } : {}),
    ...(region !== undefined ? { region } : {}),
  };
  if (Object.keys(data).length === 0) return existing;
  return deps.db.$transaction(async (tx) => {
    const { count } = await tx.resource.updateMany({ where: { id: resourceId, orgId }, data });
    if (count === 0) throw notFound('resource', resourceId);
    await recordAudit(tx, ctx, { orgId, action: 'resource.update', target: resourceId, details: { fields: Object.keys(input) } });
    return requireResource(tx, orgId, resourceId);
  });
}

/** Deleting a resource deletes the API keys and access keys for it and the role bindings on it; caches drop the keys. */
export async function deleteResource(deps: Deps, ctx: RequestContext, orgId: string, resourceId: string): Promise<void> {
  await requireOrg(deps.db, ctx.actor, orgId);
  assertAllowed(ctx.actor, 'resource.manage', resourceTarget(await requireResource(deps.db, orgId, resourceId)));
  await runMutation(deps.store, async (tx, invalidate) => {
    // FOR UPDATE waits for transactions attaching keys or bindings to it (they hold it FOR KEY SHARE).
    const locked = await tx.$queryRaw<Array<{ kind: string }>>`SELECT kind::text AS kind FROM resources WHERE id = ${resourceId} AND org_id = ${orgId} FOR UPDATE`;
    if (locked.length === 0) throw notFound('resource', resourceId);
    const keys = await tx.apiKey.findMany({ where: { orgId, resourceId }, select: { id: true }, orderBy: { id: 'asc' } });
    await tx.apiKey.deleteMany({ where: { orgId, resourceId } });
    const accessKeys = await tx.accessKey.findMany({ where: { orgId, clusterId: resourceId }, select: { id: true, name: true }, orderBy: { id: 'asc' } });
    await tx.accessKey.deleteMany({ where: { orgId, clusterId: resourceId } });
    const bindings = await tx.roleBinding.deleteMany({ where: { orgId, scopeType: 'resource', scopeId: resourceId } });
    await removeClusterKeysOf(tx, ctx, invalidate, orgId, { clusterId: resourceId });
    await tx.resource.delete({ where: { id: resourceId } });
    await recordAudit(tx, ctx, {
      orgId,
      action: 'resource.delete',
      target: resourceId,
      details: {
        kind: locked[0]!.kind,
        api_keys_deleted: keys.map((key) => key.id),
        role_bindings_deleted: bindings.count,
        // Named only when there were some, so other kinds' events keep their shape.
        ...(accessKeys.length > 0 ? { access_keys_deleted: accessKeys.map((key) => key.name) } : {}),
      },
    });
    invalidate('api_key', keys.map((key) => key.id));
    invalidate('access_key', accessKeys.map((key) => key.id));
  });
}
