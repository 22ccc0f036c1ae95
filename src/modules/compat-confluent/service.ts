import type { Actor, RequestContext } from '../../auth/actor.js';
import type { Deps } from '../../deps.js';
import { DomainError, invalidField, notFound } from '../../errors.js';
import type { PageRequest } from '../../lib/pagination.js';
import { parseFlinkScope } from '../api-keys/flink-regions.js';
import type { ApiKeyScope, ApiKeyWithOwner } from '../api-keys/schemas.js';
import { type ApiKeyFilters, createApiKey, deleteApiKey, getApiKey, listApiKeys, updateApiKey } from '../api-keys/service.js';
import {
  createServiceAccount,
  deleteServiceAccount,
  getServiceAccount,
  listServiceAccounts,
  type ServiceAccountInput,
  updateServiceAccount,
} from '../principals/service.js';
import type { CreateConfluentApiKeyBody } from './schemas.js';

/*
 * Confluent's IAM v2 API over the /v1 services: this file only translates names and shapes.
 * Every rule about keys and principals (who may, quotas, tenancy, audit, invalidation) stays in
 * api-keys/service.ts and principals/service.ts.
 */

/**
 * /iam/v2 has no organization in its paths: it acts in the caller's own. The root token belongs to
 * none, so it is refused here rather than guessing one.
 */
function organizationOf(actor: Actor): string {
  if (actor.kind === 'root') {
    throw new DomainError(
      'forbidden',
      'the root token belongs to no organization, and /iam/v2 acts in the organization of the calling cloud API key; as root, use /v1/orgs/{org_id}/api-keys and /v1/orgs/{org_id}/service-accounts',
    );
  }
  return actor.orgId;
}

/**
 * Confluent's `resource.id` (case-insensitive): a resource id, `cloud` (also when there is no
 * resource, as Terraform sends cloud keys), or `env-xxx.<cloud>.<region>` for Flink.
 */
function scopeOf(resource: CreateConfluentApiKeyBody['spec']['resource']): ApiKeyScope {
  const id = resource?.id.toLowerCase();
  if (id === undefined || id === 'cloud') return { type: 'cloud' };
  const flink = parseFlinkScope(id);
  if (flink) return { type: 'flink', environment_id: flink.environmentId, cloud: flink.cloud, region: flink.region };
  if (id.startsWith('env-') || resource?.api_version === 'fcpm/v2') {
    throw invalidField('spec.resource.id', `${resource?.id} is not a Flink scope; write <environment id>.<cloud>.<region>, e.g. env-abc123.aws.us-east-2`);
  }
  return { type: 'resource', resource_id: id };
}

/** The /v1 field a service names in an error, as it is called in the Confluent request. */
const CREATE_FIELDS: Record<string, string> = {
  owner: 'spec.owner.id',
  'scope.resource_id': 'spec.resource.id',
  'scope.environment_id': 'spec.resource.id',
  'scope.cloud': 'spec.resource.id',
  'scope.region': 'spec.resource.id',
  display_name: 'spec.display_name',
  description: 'spec.description',
};

async function renamingFields<T>(rename: (path: string) => string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof DomainError) || !error.options.errors) throw error;
    const errors = error.options.errors.map((e) => ({ ...e, path: rename(e.path) }));
    const [first] = error.options.errors;
    // invalidField's detail starts with the field's name; keep the rest of the explanation.
    const detail =
      errors.length === 1 && first && error.detail.startsWith(`${first.path} `) ? `${errors[0]!.path}${error.detail.slice(first.path.length)}` : error.detail;
    throw new DomainError(error.code, detail, { ...error.options, errors });
  }
}

export function createConfluentApiKey(deps: Deps, ctx: RequestContext, body: CreateConfluentApiKeyBody) {
  const orgId = organizationOf(ctx.actor);
  const { spec } = body;
  const input = { owner: spec.owner.id, scope: scopeOf(spec.resource), display_name: spec.display_name, description: spec.description };
  return renamingFields(
    (path) => CREATE_FIELDS[path] ?? path,
    () => createApiKey(deps, ctx, orgId, input),
  );
}

export interface ConfluentKeyFilters {
  'spec.owner'?: string | undefined;
  'spec.resource'?: string | undefined;
}

/** `spec.resource` selects by resource id, all cloud keys (`cloud`), or the Flink keys of one environment and region. */
function keyFiltersOf(filters: ConfluentKeyFilters): ApiKeyFilters {
  const owner = filters['spec.owner'] || undefined;
  const resource = filters['spec.resource']?.toLowerCase();
  if (!resource) return { owner, exclude_revoked: true };
  if (resource === 'cloud') return { owner, type: 'cloud', exclude_revoked: true };
  const flink = parseFlinkScope(resource);
  if (flink) return { owner, flink: { environment_id: flink.environmentId, cloud: flink.cloud, region: flink.region }, exclude_revoked: true };
  return { owner, resource_id: resource, exclude_revoked: true };
}

export function listConfluentApiKeys(deps: Deps, ctx: RequestContext, filters: ConfluentKeyFilters, page: PageRequest) {
  return listApiKeys(deps, ctx, organizationOf(ctx.actor), keyFiltersOf(filters), page);
}

/** A revoked key still exists for /v1 (verification answers REVOKED), but Confluent's API forgets deleted keys. */
export async function getConfluentApiKey(deps: Deps, ctx: RequestContext, keyId: string): Promise<ApiKeyWithOwner> {
  const key = await getApiKey(deps, ctx, organizationOf(ctx.actor), keyId);
  if (key.status === 'revoked') throw notFound('API key', keyId);
  return key;
}

export async function updateConfluentApiKey(deps: Deps, ctx: RequestContext, keyId: string, spec: Record<string, unknown>) {
  await getConfluentApiKey(deps, ctx, keyId);
  return renamingFields(
    (path) => `spec.${path}`,
    () => updateApiKey(deps, ctx, organizationOf(ctx.actor), keyId, spec),
  );
}

export async function deleteConfluentApiKey(deps: Deps, ctx: RequestContext, keyId: string): Promise<void> {
  await getConfluentApiKey(deps, ctx, keyId);
  await deleteApiKey(deps, ctx, organizationOf(ctx.actor), keyId);
}

export function createConfluentServiceAccount(deps: Deps, ctx: RequestContext, input: ServiceAccountInput & { display_name: string }) {
  return createServiceAccount(deps, ctx, organizationOf(ctx.actor), input);
}

export function listConfluentServiceAccounts(deps: Deps, ctx: RequestContext, filters: { display_name?: string | string[] }, page: PageRequest) {
  const orgId = organizationOf(ctx.actor);
  const { display_name } = filters;
  const displayNames = display_name === undefined ? undefined : Array.isArray(display_name) ? display_name : [display_name];
  return listServiceAccounts(deps, ctx, orgId, page, displayNames);
}

export function getConfluentServiceAccount(deps: Deps, ctx: RequestContext, saId: string) {
  return getServiceAccount(deps, ctx, organizationOf(ctx.actor), saId);
}

export function updateConfluentServiceAccount(deps: Deps, ctx: RequestContext, saId: string, input: ServiceAccountInput) {
  return updateServiceAccount(deps, ctx, organizationOf(ctx.actor), saId, input);
}

export function deleteConfluentServiceAccount(deps: Deps, ctx: RequestContext, saId: string, force: boolean) {
  return deleteServiceAccount(deps, ctx, organizationOf(ctx.actor), saId, force);
}
