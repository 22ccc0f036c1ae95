import { DomainError } from '../errors.js';
import type { Actor, Binding, ScopeType } from './actor.js';

/** Confluent Cloud's roles, plus Verifier (may call /v1/verify for the organization's credentials). */
export const ROLES = [
  'OrganizationAdmin',
  'EnvironmentAdmin',
  'CloudClusterAdmin',
  'Operator',
  'ResourceOwner',
  'DeveloperManage',
  'DeveloperRead',
  'DeveloperWrite',
  'Verifier',
] as const;
export type Role = (typeof ROLES)[number];

/** Where each role may be bound. Binding a role elsewhere is refused with 422. */
export const ROLE_SCOPES: Record<Role, readonly ScopeType[]> = {
  OrganizationAdmin: ['organization'],
  EnvironmentAdmin: ['environment'],
  CloudClusterAdmin: ['resource'],
  Operator: ['organization', 'environment', 'resource'],
  ResourceOwner: ['environment', 'resource'],
  DeveloperManage: ['environment', 'resource'],
  DeveloperRead: ['environment', 'resource'],
  DeveloperWrite: ['environment', 'resource'],
  Verifier: ['organization'],
};

const CONFLUENT_ROLES = ROLES.filter((role) => role !== 'Verifier');
const DEVELOPER_ROLES: readonly Role[] = ['DeveloperManage', 'DeveloperRead', 'DeveloperWrite'];

/** The point in the hierarchy an action applies to. Narrower ids imply the wider ones. */
export interface Target {
  orgId: string;
  environmentId?: string | undefined;
  resourceId?: string | undefined;
}

export type Action =
  | 'org.read'
  | 'org.update'
  | 'org.delete'
  | 'environment.read'
  | 'environment.manage'
  | 'resource.read'
  | 'resource.manage'
  | 'principal.read'
  | 'principal.manage'
  | 'role_binding.read'
  | 'role_binding.manage'
  | 'audit.read'
  | 'api_key.manage_cloud'
  | 'api_key.manage_scoped'
  | 'api_key.manage_own_scoped'
  | 'credential.verify'
  | 'client.manage'
  | 'server_certificate.issue';

/** `member`: any principal of the organization. A role list: a binding of one of them must cover the target. */
const PERMISSIONS: Record<Action, 'root' | 'member' | readonly Role[]> = {
  'org.read': 'member',
  'org.update': ['OrganizationAdmin'],
  'org.delete': 'root',
  'environment.read': 'member',
  'environment.manage': ['OrganizationAdmin', 'EnvironmentAdmin'],
  'resource.read': 'member',
  'resource.manage': ['OrganizationAdmin', 'EnvironmentAdmin', 'CloudClusterAdmin'],
  'principal.read': 'member',
  'principal.manage': ['OrganizationAdmin'],
  'role_binding.read': 'member',
  'role_binding.manage': ['OrganizationAdmin', 'EnvironmentAdmin'],
  'audit.read': ['OrganizationAdmin'],
  'api_key.manage_cloud': ['OrganizationAdmin'],
  // Keys for any owner: a Confluent role on the resource, its environment or the organization,
  // except the Developer roles, which may manage only their own keys (next action).
  'api_key.manage_scoped': CONFLUENT_ROLES.filter((role) => !DEVELOPER_ROLES.includes(role)),
  'api_key.manage_own_scoped': CONFLUENT_ROLES,
  'credential.verify': ['Verifier'],
  // kdb Insights: who may enrol and remove clients of a deployment, and issue its servers' certificates.
  'client.manage': ['OrganizationAdmin', 'EnvironmentAdmin', 'CloudClusterAdmin', 'DeveloperManage'],
  'server_certificate.issue': ['OrganizationAdmin', 'CloudClusterAdmin'],
};

/** Whether a binding applies at the target: organization covers all, environment its resources too. */
export function covers(binding: Binding, target: Target): boolean {
  switch (binding.scopeType) {
    case 'organization':
      return binding.scopeId === target.orgId;
    case 'environment':
      return target.environmentId !== undefined && binding.scopeId === target.environmentId;
    case 'resource':
      return target.resourceId !== undefined && binding.scopeId === target.resourceId;
  }
}

/** The target a binding is anchored at. */
export function bindingTarget(binding: Binding, orgId: string): Target {
  switch (binding.scopeType) {
    case 'organization':
      return { orgId };
    case 'environment':
      return { orgId, environmentId: binding.scopeId };
    case 'resource':
      return { orgId, resourceId: binding.scopeId };
  }
}

/** The single authorization decision. Pure: no I/O, so every rule is unit-testable. */
export function isAllowed(actor: Actor, action: Action, target: Target): boolean {
  if (actor.kind === 'root') return true;
  if (actor.orgId !== target.orgId) return false;
  const rule = PERMISSIONS[action];
  if (rule === 'root') return false;
  if (rule === 'member') return true;
  return actor.bindings.some((binding) => rule.includes(binding.role) && covers(binding, target));
}

/**
 * Tenancy before permission: another organization's objects do not exist for this actor (404),
 * so ids cannot be probed across tenants. Within its organization, a refusal is 403.
 */
export function assertInOrg(actor: Actor, orgId: string): void {
  if (actor.kind === 'principal' && actor.orgId !== orgId) {
    throw new DomainError('not_found', `organization ${orgId} does not exist`);
  }
}

export function assertAllowed(actor: Actor, action: Action, target: Target): void {
  assertInOrg(actor, target.orgId);
  if (!isAllowed(actor, action, target)) {
    throw new DomainError('forbidden', `this credential may not perform ${action} here; ask an OrganizationAdmin for a role binding`);
  }
}
