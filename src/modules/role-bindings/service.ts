import type { RequestContext } from '../../auth/actor.js';
import { authorize } from '../../auth/policy.js';
import { ROLE_SCOPES, type Role, type Target } from '../../auth/roles.js';
import { newId } from '../../crypto/tokens.js';
import type { Deps } from '../../deps.js';
import { DomainError, type FieldError, notFound } from '../../errors.js';
import type { RoleBinding } from '../../generated/prisma/client.js';
import type { ScopeType } from '../../generated/prisma/enums.js';
import { type PageRequest, paginate } from '../../lib/pagination.js';
import { isUniqueViolation } from '../../store/errors.js';
import type { Db, Tx } from '../../store/index.js';
import { runMutation } from '../../store/mutation.js';
import { recordAudit } from '../audit/service.js';
import { holdEnvironment } from '../environments/service.js';
import { requireOrg } from '../orgs/service.js';
import { holdPrincipal } from '../principals/service.js';
import { holdResource } from '../resources/service.js';
import type { RoleBindingScope } from './schemas.js';

interface ResolvedScope {
  scopeType: ScopeType;
  /** The organization id for organization scope. */
  scopeId: string;
  target: Target;
}

/** The stored form and authorization target of a scope, or null when its id is not in the organization. */
async function resolveScope(tx: Tx, orgId: string, scope: RoleBindingScope): Promise<ResolvedScope | null> {
  switch (scope.type) {
    case 'organization':
      return { scopeType: 'organization', scopeId: orgId, target: { orgId } };
    case 'environment':
      if (!(await holdEnvironment(tx, orgId, scope.id))) return null;
      return { scopeType: 'environment', scopeId: scope.id, target: { orgId, environmentId: scope.id } };
    case 'resource': {
      const resource = await holdResource(tx, orgId, scope.id);
      if (!resource) return null;
      return { scopeType: 'resource', scopeId: scope.id, target: { orgId, environmentId: resource.environmentId, resourceId: scope.id } };
    }
  }
}

/** Where a stored binding sits, for authorizing changes to it: bindings on the environment of a resource cover it. */
async function targetOf(db: Db, binding: RoleBinding): Promise<Target> {
  switch (binding.scopeType) {
    case 'organization':
      return { orgId: binding.orgId };
    case 'environment':
      return { orgId: binding.orgId, environmentId: binding.scopeId };
    case 'resource': {
      const resource = await db.resource.findFirst({ where: { id: binding.scopeId, orgId: binding.orgId }, select: { environmentId: true } });
      return { orgId: binding.orgId, environmentId: resource?.environmentId, resourceId: binding.scopeId };
    }
  }
}

const describeScope = (scope: { scopeType: ScopeType; scopeId: string }) =>
  scope.scopeType === 'organization' ? 'the organization' : `${scope.scopeType} ${scope.scopeId}`;

export interface CreateRoleBindingInput {
  principal: string;
  role: Role;
  scope: RoleBindingScope;
}

/** Every reason the binding cannot exist is reported at once, each naming its field. */
export async function createRoleBinding(deps: Deps, ctx: RequestContext, orgId: string, input: CreateRoleBindingInput): Promise<RoleBinding> {
  await requireOrg(deps.db, orgId);
  try {
    return await runMutation(deps.store, async (tx, invalidate) => {
      const errors: FieldError[] = [];
      const allowedScopes = ROLE_SCOPES[input.role];
      if (!allowedScopes.includes(input.scope.type)) {
        errors.push({ path: 'role', message: `${input.role} can be bound only on ${allowedScopes.join(' or ')} scope, not on ${input.scope.type} scope` });
      }
      if (!(await holdPrincipal(tx, orgId, input.principal))) {
        errors.push({ path: 'principal', message: `${input.principal} is not a service account or user of organization ${orgId}` });
      }
      const scope = await resolveScope(tx, orgId, input.scope);
      if (!scope && input.scope.type !== 'organization') {
        errors.push({
          path: 'scope.id',
          message: `${input.scope.id} is not ${input.scope.type === 'environment' ? 'an environment' : 'a resource'} of organization ${orgId}`,
        });
      }
      if (errors.length > 0 || !scope) {
        throw new DomainError('validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
      }
      authorize(ctx.actor, 'role_binding.manage', scope.target);
      const binding = await tx.roleBinding.create({
        data: { id: newId('rb'), orgId, principalId: input.principal, role: input.role, scopeType: scope.scopeType, scopeId: scope.scopeId },
      });
      await recordAudit(tx, ctx, {
        orgId,
        action: 'role_binding.create',
        target: binding.id,
        details: { principal: binding.principalId, role: binding.role, scope_type: binding.scopeType, scope_id: binding.scopeId },
      });
      invalidate('api_key', await cloudKeyIds(tx, binding.principalId));
      return binding;
    });
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const scopeId = input.scope.type === 'organization' ? orgId : input.scope.id;
    const existing = await deps.db.roleBinding.findFirst({
      where: { orgId, principalId: input.principal, role: input.role, scopeType: input.scope.type, scopeId },
      select: { id: true },
    });
    throw new DomainError(
      'conflict',
      `${input.principal} already holds ${input.role} on ${describeScope({ scopeType: input.scope.type, scopeId })}${existing ? ` (role binding ${existing.id})` : ''}; nothing to do`,
    );
  }
}

export interface RoleBindingFilters {
  principal?: string | undefined;
  role?: Role | undefined;
}

export async function listRoleBindings(deps: Deps, ctx: RequestContext, orgId: string, filters: RoleBindingFilters, page: PageRequest) {
  await requireOrg(deps.db, orgId);
  authorize(ctx.actor, 'role_binding.read', { orgId });
  const where = {
    orgId,
    ...(filters.principal ? { principalId: filters.principal } : {}),
    ...(filters.role ? { role: filters.role } : {}),
  };
  return paginate(page, (args) => deps.db.roleBinding.findMany({ ...args, where: { AND: [where, args.where] } }));
}

async function requireRoleBinding(db: Db, orgId: string, bindingId: string): Promise<RoleBinding> {
  const binding = await db.roleBinding.findFirst({ where: { id: bindingId, orgId } });
  if (!binding) throw notFound('role binding', bindingId);
  return binding;
}

export async function getRoleBinding(deps: Deps, ctx: RequestContext, orgId: string, bindingId: string): Promise<RoleBinding> {
  await requireOrg(deps.db, orgId);
  const binding = await requireRoleBinding(deps.db, orgId, bindingId);
  authorize(ctx.actor, 'role_binding.read', { orgId });
  return binding;
}

/** The principal's cloud keys, whose cached actors hold its bindings and must be dropped on a change. */
async function cloudKeyIds(tx: Tx, principalId: string): Promise<string[]> {
  const keys = await tx.apiKey.findMany({ where: { ownerId: principalId, type: 'cloud' }, select: { id: true } });
  return keys.map((key) => key.id);
}

/** Takes effect on the principal's next request on every replica: its cached actors are invalidated. */
export async function deleteRoleBinding(deps: Deps, ctx: RequestContext, orgId: string, bindingId: string): Promise<void> {
  await requireOrg(deps.db, orgId);
  const binding = await requireRoleBinding(deps.db, orgId, bindingId);
  authorize(ctx.actor, 'role_binding.manage', await targetOf(deps.db, binding));
  await runMutation(deps.store, async (tx, invalidate) => {
    const { count } = await tx.roleBinding.deleteMany({ where: { id: bindingId, orgId } });
    if (count === 0) throw notFound('role binding', bindingId);
    await recordAudit(tx, ctx, {
      orgId,
      action: 'role_binding.delete',
      target: bindingId,
      details: { principal: binding.principalId, role: binding.role, scope_type: binding.scopeType, scope_id: binding.scopeId },
    });
    invalidate('api_key', await cloudKeyIds(tx, binding.principalId));
  });
}
