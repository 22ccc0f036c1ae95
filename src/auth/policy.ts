import { DomainError } from '../errors.js';
import type { Actor } from './actor.js';
import { type Action, type Binding, ROLES, type Role, type Target } from './roles.js';

const CONFLUENT_ROLES = ROLES.filter((role) => role !== 'Verifier');
const DEVELOPER_ROLES: readonly Role[] = ['DeveloperManage', 'DeveloperRead', 'DeveloperWrite'];

/**
 * `member`: any principal of the organization. `any_role`: a principal holding a Confluent role
 * anywhere in the organization (not Verifier alone). A role list: a binding of one of them must
 * cover the target.
 */
const PERMISSIONS: Record<Action, 'root' | 'member' | 'any_role' | readonly Role[]> = {
  'org.read': 'member',
  'org.update': ['OrganizationAdmin'],
  'org.delete': 'root',
  'environment.read': 'member',
  'environment.manage': ['OrganizationAdmin', 'EnvironmentAdmin'],
  'resource.read': 'member',
  'resource.manage': ['OrganizationAdmin', 'EnvironmentAdmin', 'CloudClusterAdmin'],
  // The directory says who holds what: people who administer or use the organization need it to
  // bind roles and issue keys; a role-less principal or a Verifier (which only verifies) does not.
  'principal.read': 'any_role',
  'principal.manage': ['OrganizationAdmin'],
  'role_binding.read': 'any_role',
  'role_binding.manage': ['OrganizationAdmin', 'EnvironmentAdmin'],
  'audit.read': ['OrganizationAdmin'],
  'api_key.manage_cloud': ['OrganizationAdmin'],
  // Keys for any owner: a Confluent role on the resource, its environment or the organization,
  // except the Developer roles, which may manage only their own keys (next action).
  'api_key.manage_scoped': CONFLUENT_ROLES.filter((role) => !DEVELOPER_ROLES.includes(role)),
  'api_key.manage_own_scoped': CONFLUENT_ROLES,
  'credential.verify': ['Verifier'],
  // Access keys belong to the fluvio_cluster (as in Fluvio), not to a principal.
  'access_key.manage': ['OrganizationAdmin', 'EnvironmentAdmin', 'CloudClusterAdmin', 'DeveloperManage'],
  'api_key.issue_for_anyone': ['OrganizationAdmin'],
  // Cluster keys for any owner: an admin of the organization, the cluster's environment or the
  // cluster; the Developer roles may manage only keys their holder owns (next action).
  'cluster_key.manage': ['OrganizationAdmin', 'EnvironmentAdmin', 'CloudClusterAdmin'],
  'cluster_key.manage_own': ['OrganizationAdmin', 'EnvironmentAdmin', 'CloudClusterAdmin', ...DEVELOPER_ROLES],
  // The revocation feed is for brokers and gateways (Verifier) and for whoever manages the keys.
  'cluster_key.read_revocations': ['OrganizationAdmin', 'EnvironmentAdmin', 'CloudClusterAdmin', 'Verifier'],
  'signing_key.manage': ['OrganizationAdmin'],
  // kdb Insights: who may enrol and remove clients of a deployment, and issue its servers' certificates.
  'client.manage': ['OrganizationAdmin', 'EnvironmentAdmin', 'CloudClusterAdmin', 'DeveloperManage'],
  'server_certificate.issue': ['OrganizationAdmin', 'CloudClusterAdmin'],
  // Who is enrolled in a deployment is a directory (issue 9 item 17): a Confluent role on the
  // deployment, its environment or the organization; a Verifier or role-less principal does not.
  'client.read': CONFLUENT_ROLES,
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

/**
 * Whether the actor may perform the action at the target, without the tenancy step: for callers
 * that must not throw (listing filters, a verification answering INVALID). `authorize` decides
 * with it.
 */
export function isAllowed(actor: Actor, action: Action, target: Target): boolean {
  if (actor.kind === 'root') return true;
  if (actor.orgId !== target.orgId) return false;
  const rule = PERMISSIONS[action];
  if (rule === 'root') return false;
  if (rule === 'member') return true;
  if (rule === 'any_role') return actor.bindings.some((binding) => binding.role !== 'Verifier');
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

/**
 * Actions with a narrower variant for the object's owner: the Developer roles manage only keys
 * their holder owns. A target with `ownerId` is judged by the variant when the actor owns it.
 */
const OWNER_VARIANT: Partial<Record<Action, Action>> = {
  'api_key.manage_scoped': 'api_key.manage_own_scoped',
  'cluster_key.manage': 'cluster_key.manage_own',
};

/**
 * The authorization decision: 404 for another tenant's target, 403 when no binding of the actor
 * grants the action there (or, on an object the actor owns, the action's owner variant).
 */
export function authorize(actor: Actor, action: Action, target: Target): void {
  assertInOrg(actor, target.orgId);
  if (isAllowed(actor, action, target)) return;
  const ownerVariant = OWNER_VARIANT[action];
  const owns = ownerVariant !== undefined && actor.kind === 'principal' && target.ownerId === actor.principalId;
  const decided = owns ? ownerVariant : action;
  if (owns && isAllowed(actor, decided, target)) return;
  throw new DomainError('forbidden', `this credential may not perform ${decided} here; ask an OrganizationAdmin for a role binding`);
}

/**
 * The roles whose rights a role includes, at its scope and below. Operator operates but reads no
 * data; the Developer roles and Verifier include only themselves.
 */
const IMPLIED_ROLES: Record<Role, readonly Role[]> = {
  OrganizationAdmin: ROLES,
  EnvironmentAdmin: ['EnvironmentAdmin', 'CloudClusterAdmin', 'Operator', 'ResourceOwner', ...DEVELOPER_ROLES],
  CloudClusterAdmin: ['CloudClusterAdmin', 'Operator', 'ResourceOwner', ...DEVELOPER_ROLES],
  ResourceOwner: ['ResourceOwner', ...DEVELOPER_ROLES],
  Operator: ['Operator'],
  DeveloperManage: ['DeveloperManage'],
  DeveloperRead: ['DeveloperRead'],
  DeveloperWrite: ['DeveloperWrite'],
  Verifier: ['Verifier'],
};

/** The principal a key would belong to, with where each of its roles applies (resources with their environment). */
export interface KeyOwner {
  id: string;
  kind: 'service_account' | 'user';
  grants: Array<{ role: Role; target: Target }>;
}

/**
 * Whoever holds a key's secret acts as its owner, so issuing one (create, rotate) lends the owner's
 * rights. Root and OrganizationAdmins may issue keys for anyone in the organization; anyone may for
 * itself. Otherwise the owner must be a service account (never another human), and every role it
 * holds must be implied by one of the caller's roles at a scope that covers it: nobody borrows
 * rights they do not have. The scope rules of the key itself (authorize) apply on top.
 */
export function assertMayIssueKeyFor(actor: Actor, orgId: string, owner: KeyOwner): void {
  assertInOrg(actor, orgId);
  if (actor.kind === 'root' || isAllowed(actor, 'api_key.issue_for_anyone', { orgId })) return;
  if (owner.id === actor.principalId) return;
  if (owner.kind === 'user') {
    throw new DomainError(
      'forbidden',
      `${owner.id} is another user: only an OrganizationAdmin may issue keys that act as a person; issue a key for a service account instead`,
    );
  }
  const borrowed = owner.grants.filter(
    (grant) => !actor.bindings.some((binding) => IMPLIED_ROLES[binding.role].includes(grant.role) && covers(binding, grant.target)),
  );
  if (borrowed.length > 0) {
    const roles = borrowed.map((grant) => `${grant.role} on ${grant.target.resourceId ?? grant.target.environmentId ?? grant.target.orgId}`);
    throw new DomainError(
      'forbidden',
      `${owner.id} holds ${roles.join(', ')}, which this credential does not; a key for it would lend those rights, so only an OrganizationAdmin may issue it`,
    );
  }
}
