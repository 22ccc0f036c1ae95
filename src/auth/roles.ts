/**
 * The vocabulary of authorization: roles, where they may be bound, the actions routes and services
 * ask about, and the points in the hierarchy they apply to. Types only and constants: actor.ts and
 * policy.ts both build on it, so neither imports the other's types in a circle.
 */

export type ScopeType = 'organization' | 'environment' | 'resource';

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

/** The point in the hierarchy an action applies to. Narrower ids imply the wider ones. */
export interface Target {
  orgId: string;
  environmentId?: string | undefined;
  resourceId?: string | undefined;
  /** The principal that owns the object, for actions with an owner variant (policy.ts). */
  ownerId?: string | undefined;
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
  | 'access_key.manage'
  | 'credential.verify'
  | 'api_key.issue_for_anyone'
  | 'cluster_key.manage'
  | 'cluster_key.manage_own'
  | 'cluster_key.read_revocations'
  | 'signing_key.manage'
  | 'client.manage'
  | 'client.read'
  | 'server_certificate.issue';

export interface Binding {
  role: Role;
  scopeType: ScopeType;
  scopeId: string;
}
