import type { RequestContext } from '../../auth/actor.js';
import { authorize } from '../../auth/policy.js';
import { newId } from '../../crypto/tokens.js';
import type { Deps } from '../../deps.js';
import { DomainError, type FieldError, invalidField, notFound } from '../../errors.js';
import type { Resource } from '../../generated/prisma/client.js';
import type { ResourceKind } from '../../generated/prisma/enums.js';
import { type PageRequest, paginate } from '../../lib/pagination.js';
import type { Db, Tx } from '../../store/index.js';
import { runMutation } from '../../store/mutation.js';
import { recordAudit } from '../audit/service.js';
import { invalidateDeploymentClients, prepareCertificateAuthority, storeCertificateAuthority } from '../clients/service.js';
import { removeClusterKeysOf } from '../cluster-keys/service.js';
import { holdEnvironment } from '../environments/service.js';
import { requireOrg } from '../orgs/service.js';
import { DEFAULT_KDB_SETTINGS, type KdbSettingsInput, kdbSettingsOf, mergeKdbSettings, RESOURCE_ID_PREFIX } from './schemas.js';

const settingsOnlyForKdb = () => invalidField('settings', 'applies only to kdb_insights resources');

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
  const rows = await tx.$queryRaw<
    Array<{ id: string; environment_id: string }>
  >`SELECT id, environment_id FROM resources WHERE id = ${resourceId} AND org_id = ${orgId} FOR KEY SHARE`;
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
  settings?: KdbSettingsInput | undefined;
}

export async function createResource(deps: Deps, ctx: RequestContext, orgId: string, input: CreateResourceInput): Promise<Resource> {
  const org = await requireOrg(deps.db, orgId);
  if (input.settings !== undefined && input.kind !== 'kdb_insights') throw settingsOnlyForKdb();
  const id = newId(RESOURCE_ID_PREFIX[input.kind]);
  // A kdb Insights deployment gets its own CA, made before the transaction and stored in it.
  const authority = input.kind === 'kdb_insights' ? await prepareCertificateAuthority(deps, id, input.display_name, org.name) : undefined;
  return deps.db.$transaction(async (tx) => {
    if (!(await holdEnvironment(tx, orgId, input.environment_id))) {
      throw invalidField(
        'environment_id',
        `${input.environment_id} is not an environment of organization ${orgId}; create it first or pick one from GET /v1/orgs/${orgId}/environments`,
      );
    }
    authorize(ctx.actor, 'resource.manage', { orgId, environmentId: input.environment_id });
    const resource = await tx.resource.create({
      data: {
        id,
        orgId,
        environmentId: input.environment_id,
        kind: input.kind,
        displayName: input.display_name,
        cloud: input.cloud ?? null,
        region: input.region ?? null,
        ...(input.kind === 'kdb_insights' ? { settings: mergeKdbSettings(DEFAULT_KDB_SETTINGS, input.settings ?? {}) } : {}),
      },
    });
    if (authority) await storeCertificateAuthority(tx, orgId, resource.id, authority);
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
  await requireOrg(deps.db, orgId);
  authorize(ctx.actor, 'resource.read', { orgId });
  const where = {
    orgId,
    ...(filters.kind ? { kind: filters.kind } : {}),
    ...(filters.environment_id ? { environmentId: filters.environment_id } : {}),
  };
  return paginate(page, (args) => deps.db.resource.findMany({ ...args, where: { AND: [where, args.where] } }));
}

export async function getResource(deps: Deps, ctx: RequestContext, orgId: string, resourceId: string): Promise<Resource> {
  await requireOrg(deps.db, orgId);
  const resource = await requireResource(deps.db, orgId, resourceId);
  authorize(ctx.actor, 'resource.read', resourceTarget(resource));
  return resource;
}

export interface UpdateResourceInput {
  display_name?: string | undefined;
  cloud?: string | null | undefined;
  region?: string | null | undefined;
  settings?: KdbSettingsInput | undefined;
  kind?: unknown;
  environment_id?: unknown;
}

export async function updateResource(deps: Deps, ctx: RequestContext, orgId: string, resourceId: string, input: UpdateResourceInput): Promise<Resource> {
  await requireOrg(deps.db, orgId);
  const immutable: FieldError[] = (['kind', 'environment_id'] as const)
    .filter((field) => input[field] !== undefined)
    .map((path) => ({ path, message: 'cannot be changed after creation' }));
  if (immutable.length > 0) {
    const fields = immutable.map((e) => e.path).join(' and ');
    throw new DomainError('immutable_field', `${fields} of a resource cannot be changed; create a new resource instead`, { errors: immutable });
  }
  const existing = await requireResource(deps.db, orgId, resourceId);
  authorize(ctx.actor, 'resource.manage', resourceTarget(existing));
  const { display_name, cloud, region, settings } = input;
  if (settings !== undefined && existing.kind !== 'kdb_insights') throw settingsOnlyForKdb();
  const data = {
    ...(display_name !== undefined ? { displayName: display_name } : {}),
    ...(cloud !== undefined ? { cloud } : {}),
    ...(region !== undefined ? { region } : {}),
  };
  if (Object.keys(data).length === 0 && settings === undefined) return existing;
  return runMutation(deps.store, async (tx, invalidate) => {
    // Settings merge into the current ones under a row lock, so concurrent PATCHes do not lose fields.
    const locked = await tx.$queryRaw<Array<{ settings: unknown }>>`SELECT settings FROM resources WHERE id = ${resourceId} AND org_id = ${orgId} FOR UPDATE`;
    if (locked.length === 0) throw notFound('resource', resourceId);
    const merged = settings !== undefined ? { settings: mergeKdbSettings(kdbSettingsOf(locked[0]!.settings), settings) } : {};
    const { count } = await tx.resource.updateMany({ where: { id: resourceId, orgId }, data: { ...data, ...merged } });
    if (count === 0) throw notFound('resource', resourceId);
    // Enrolled clients' cached details carry the endpoints.
    if (settings !== undefined) await invalidateDeploymentClients(tx, invalidate, resourceId);
    await recordAudit(tx, ctx, { orgId, action: 'resource.update', target: resourceId, details: { fields: Object.keys(input) } });
    return requireResource(tx, orgId, resourceId);
  });
}

/** Deleting a resource deletes the API keys and access keys for it and the role bindings on it; caches drop the keys. */
export async function deleteResource(deps: Deps, ctx: RequestContext, orgId: string, resourceId: string): Promise<void> {
  await requireOrg(deps.db, orgId);
  authorize(ctx.actor, 'resource.manage', resourceTarget(await requireResource(deps.db, orgId, resourceId)));
  await runMutation(deps.store, async (tx, invalidate) => {
    // FOR UPDATE waits for transactions attaching keys or bindings to it (they hold it FOR KEY SHARE).
    const locked = await tx.$queryRaw<
      Array<{ kind: string }>
    >`SELECT kind::text AS kind FROM resources WHERE id = ${resourceId} AND org_id = ${orgId} FOR UPDATE`;
    if (locked.length === 0) throw notFound('resource', resourceId);
    const keys = await tx.apiKey.findMany({ where: { orgId, resourceId }, select: { id: true }, orderBy: { id: 'asc' } });
    await tx.apiKey.deleteMany({ where: { orgId, resourceId } });
    const accessKeys = await tx.accessKey.findMany({ where: { orgId, clusterId: resourceId }, select: { id: true, name: true }, orderBy: { id: 'asc' } });
    await tx.accessKey.deleteMany({ where: { orgId, clusterId: resourceId } });
    // A kdb Insights deployment's CA and enrollments go with it (foreign keys cascade); caches drop them.
    await invalidateDeploymentClients(tx, invalidate, resourceId);
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
    invalidate(
      'api_key',
      keys.map((key) => key.id),
    );
    invalidate(
      'access_key',
      accessKeys.map((key) => key.id),
    );
  });
}
