import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Actor } from '../../src/auth/actor.js';
import { assertMayIssueKeyFor, authorize, covers, isAllowed, type KeyOwner } from '../../src/auth/policy.js';
import { type Action, type Binding, ROLE_SCOPES, ROLES, type Role, type ScopeType, type Target } from '../../src/auth/roles.js';
import { DomainError } from '../../src/errors.js';

const ORG = 'org-acme';
const OTHER_ORG = 'org-other';
const ENV = 'env-prod';
const OTHER_ENV = 'env-dev';
const CLUSTER = 'lkc-orders';
const OTHER_CLUSTER = 'lkc-billing';

const atOrg: Target = { orgId: ORG };
const atEnv: Target = { orgId: ORG, environmentId: ENV };
const atCluster: Target = { orgId: ORG, environmentId: ENV, resourceId: CLUSTER };
const atOtherEnv: Target = { orgId: ORG, environmentId: OTHER_ENV };
const atOtherCluster: Target = { orgId: ORG, environmentId: ENV, resourceId: OTHER_CLUSTER };

const binding = (role: Role, scopeType: ScopeType, scopeId: string): Binding => ({ role, scopeType, scopeId });
const principal = (bindings: Binding[], orgId = ORG): Actor => ({
  kind: 'principal',
  principalId: 'sa-alice',
  principalType: 'service_account',
  orgId,
  bindings,
  apiKeyId: 'ABCDEFGHIJKLMNOP',
});
const root: Actor = { kind: 'root' };

describe('covers: a binding applies at its scope and below', () => {
  test('an organization binding covers the organization, its environments and its resources', () => {
    const b = binding('OrganizationAdmin', 'organization', ORG);
    for (const target of [atOrg, atEnv, atCluster, atOtherEnv, atOtherCluster]) assert.equal(covers(b, target), true);
  });

  test('an organization binding does not cover another organization', () => {
    const b = binding('OrganizationAdmin', 'organization', ORG);
    assert.equal(covers(b, { orgId: OTHER_ORG }), false);
    assert.equal(covers(b, { orgId: OTHER_ORG, environmentId: ENV, resourceId: CLUSTER }), false);
  });

  test('an environment binding covers that environment and its resources, not the organization or a sibling', () => {
    const b = binding('EnvironmentAdmin', 'environment', ENV);
    assert.equal(covers(b, atEnv), true);
    assert.equal(covers(b, atCluster), true);
    assert.equal(covers(b, atOtherCluster), true);
    assert.equal(covers(b, atOrg), false);
    assert.equal(covers(b, atOtherEnv), false);
    assert.equal(covers(b, { orgId: ORG, environmentId: OTHER_ENV, resourceId: 'lkc-elsewhere' }), false);
  });

  test('a resource binding covers that resource only', () => {
    const b = binding('CloudClusterAdmin', 'resource', CLUSTER);
    assert.equal(covers(b, atCluster), true);
    assert.equal(covers(b, atOtherCluster), false);
    assert.equal(covers(b, atEnv), false);
    assert.equal(covers(b, atOrg), false);
  });
});

describe('ROLE_SCOPES: which roles may sit on which scopes', () => {
  test('every role may be bound somewhere', () => {
    for (const role of ROLES) assert.ok(ROLE_SCOPES[role].length > 0, role);
  });

  test('organization-wide roles sit on the organization only', () => {
    assert.deepEqual([...ROLE_SCOPES.OrganizationAdmin], ['organization']);
    assert.deepEqual([...ROLE_SCOPES.Verifier], ['organization']);
  });

  test('EnvironmentAdmin sits on an environment, CloudClusterAdmin on a resource', () => {
    assert.deepEqual([...ROLE_SCOPES.EnvironmentAdmin], ['environment']);
    assert.deepEqual([...ROLE_SCOPES.CloudClusterAdmin], ['resource']);
  });

  test('ResourceOwner and the Developer roles sit on environments or resources, never the organization', () => {
    for (const role of ['ResourceOwner', 'DeveloperManage', 'DeveloperRead', 'DeveloperWrite'] as const) {
      assert.deepEqual([...ROLE_SCOPES[role]].sort(), ['environment', 'resource'], role);
    }
  });

  test('Operator may sit on any scope', () => {
    assert.deepEqual([...ROLE_SCOPES.Operator].sort(), ['environment', 'organization', 'resource']);
  });
});

describe('isAllowed', () => {
  test('root may do anything in any organization', () => {
    const actions: Action[] = ['org.delete', 'org.update', 'principal.manage', 'credential.verify', 'api_key.manage_cloud'];
    for (const action of actions) {
      assert.equal(isAllowed(root, action, atCluster), true, action);
      assert.equal(isAllowed(root, action, { orgId: OTHER_ORG }), true, action);
    }
  });

  test('a principal of another organization may do nothing, whatever its roles', () => {
    const admin = principal([binding('OrganizationAdmin', 'organization', OTHER_ORG)], OTHER_ORG);
    for (const action of ['org.read', 'environment.read', 'environment.manage', 'principal.manage'] as const) {
      assert.equal(isAllowed(admin, action, atOrg), false, action);
    }
    const confused = principal([binding('OrganizationAdmin', 'organization', ORG)], OTHER_ORG);
    assert.equal(isAllowed(confused, 'environment.manage', atOrg), false, 'the actor’s own organization decides, not the binding');
  });

  test('any member may read the organization, its environments and resources, even without a role binding', () => {
    const member = principal([]);
    for (const action of ['org.read', 'environment.read', 'resource.read'] as const) {
      assert.equal(isAllowed(member, action, atCluster), true, action);
    }
    assert.equal(isAllowed(member, 'environment.manage', atEnv), false);
    assert.equal(isAllowed(member, 'audit.read', atOrg), false);
  });

  test('the directory (users, service accounts, role bindings) needs a Confluent role somewhere in the organization', () => {
    for (const action of ['principal.read', 'role_binding.read'] as const) {
      assert.equal(isAllowed(principal([]), action, atOrg), false, `${action}: role-less`);
      assert.equal(isAllowed(principal([binding('Verifier', 'organization', ORG)]), action, atOrg), false, `${action}: Verifier`);
      assert.equal(isAllowed(principal([binding('DeveloperRead', 'resource', CLUSTER)]), action, atOrg), true, `${action}: a role on one resource`);
      assert.equal(isAllowed(principal([binding('EnvironmentAdmin', 'environment', ENV)]), action, atOrg), true, `${action}: EnvironmentAdmin`);
      assert.equal(isAllowed(principal([binding('OrganizationAdmin', 'organization', ORG)]), action, atOrg), true, `${action}: OrganizationAdmin`);
      assert.equal(isAllowed(root, action, atOrg), true, `${action}: root`);
    }
  });

  test('deleting an organization is for root alone, not even an OrganizationAdmin', () => {
    assert.equal(isAllowed(principal([binding('OrganizationAdmin', 'organization', ORG)]), 'org.delete', atOrg), false);
  });

  test('an OrganizationAdmin manages everything in its organization, down to each resource', () => {
    const admin = principal([binding('OrganizationAdmin', 'organization', ORG)]);
    for (const action of ['org.update', 'environment.manage', 'principal.manage', 'role_binding.manage', 'audit.read', 'api_key.manage_cloud'] as const) {
      assert.equal(isAllowed(admin, action, atOrg), true, action);
    }
    assert.equal(isAllowed(admin, 'resource.manage', atCluster), true);
    assert.equal(isAllowed(admin, 'api_key.manage_scoped', atCluster), true);
  });

  test('an EnvironmentAdmin manages its environment and the resources in it, nothing wider or beside it', () => {
    const envAdmin = principal([binding('EnvironmentAdmin', 'environment', ENV)]);
    assert.equal(isAllowed(envAdmin, 'environment.manage', atEnv), true);
    assert.equal(isAllowed(envAdmin, 'resource.manage', atEnv), true, 'may create resources in it');
    assert.equal(isAllowed(envAdmin, 'resource.manage', atCluster), true);
    assert.equal(isAllowed(envAdmin, 'role_binding.manage', atCluster), true);
    assert.equal(isAllowed(envAdmin, 'environment.manage', atOtherEnv), false);
    assert.equal(isAllowed(envAdmin, 'environment.manage', atOrg), false, 'may not create environments');
    assert.equal(isAllowed(envAdmin, 'principal.manage', atOrg), false);
    assert.equal(isAllowed(envAdmin, 'api_key.manage_cloud', atOrg), false);
  });

  test('a CloudClusterAdmin manages its resource only', () => {
    const clusterAdmin = principal([binding('CloudClusterAdmin', 'resource', CLUSTER)]);
    assert.equal(isAllowed(clusterAdmin, 'resource.manage', atCluster), true);
    assert.equal(isAllowed(clusterAdmin, 'api_key.manage_scoped', atCluster), true);
    assert.equal(isAllowed(clusterAdmin, 'resource.manage', atOtherCluster), false);
    assert.equal(isAllowed(clusterAdmin, 'resource.manage', atEnv), false, 'may not create resources beside it');
    assert.equal(isAllowed(clusterAdmin, 'role_binding.manage', atCluster), false);
  });

  test('the Developer roles may manage only their own keys, and nothing else', () => {
    for (const role of ['DeveloperManage', 'DeveloperRead', 'DeveloperWrite'] as const) {
      const dev = principal([binding(role, 'environment', ENV)]);
      assert.equal(isAllowed(dev, 'api_key.manage_own_scoped', atCluster), true, role);
      assert.equal(isAllowed(dev, 'api_key.manage_scoped', atCluster), false, role);
      assert.equal(isAllowed(dev, 'api_key.manage_own_scoped', atOtherEnv), false, `${role} elsewhere`);
      assert.equal(isAllowed(dev, 'resource.manage', atCluster), false, role);
      assert.equal(isAllowed(dev, 'role_binding.manage', atEnv), false, role);
      assert.equal(isAllowed(dev, 'api_key.manage_cloud', atOrg), false, role);
    }
  });

  test('ResourceOwner and Operator may manage any owner’s keys on their scope', () => {
    assert.equal(isAllowed(principal([binding('ResourceOwner', 'resource', CLUSTER)]), 'api_key.manage_scoped', atCluster), true);
    assert.equal(isAllowed(principal([binding('Operator', 'organization', ORG)]), 'api_key.manage_scoped', atOtherCluster), true);
    assert.equal(isAllowed(principal([binding('ResourceOwner', 'resource', CLUSTER)]), 'api_key.manage_scoped', atOtherCluster), false);
  });

  test('verification needs Verifier, which grants nothing else', () => {
    const verifier = principal([binding('Verifier', 'organization', ORG)]);
    assert.equal(isAllowed(verifier, 'credential.verify', atOrg), true);
    assert.equal(isAllowed(verifier, 'api_key.manage_own_scoped', atCluster), false);
    assert.equal(isAllowed(verifier, 'environment.manage', atEnv), false);
    assert.equal(isAllowed(principal([binding('OrganizationAdmin', 'organization', ORG)]), 'credential.verify', atOrg), false);
  });

  test('one matching binding among many is enough', () => {
    const actor = principal([
      binding('DeveloperRead', 'resource', OTHER_CLUSTER),
      binding('Verifier', 'organization', ORG),
      binding('EnvironmentAdmin', 'environment', ENV),
    ]);
    assert.equal(isAllowed(actor, 'resource.manage', atCluster), true);
  });
});

describe('authorize', () => {
  test('another organization is not_found (404), so ids cannot be probed across tenants', () => {
    const admin = principal([binding('OrganizationAdmin', 'organization', OTHER_ORG)], OTHER_ORG);
    assert.throws(
      () => authorize(admin, 'environment.read', atEnv),
      (error) => error instanceof DomainError && error.code === 'not_found',
    );
  });

  test('a refusal inside the organization is forbidden (403) and says what to ask for', () => {
    const member = principal([]);
    assert.throws(
      () => authorize(member, 'environment.manage', atEnv),
      (error) => error instanceof DomainError && error.code === 'forbidden' && /environment\.manage/.test(error.detail),
    );
    assert.doesNotThrow(() => authorize(member, 'environment.read', atEnv));
    assert.doesNotThrow(() => authorize(root, 'org.delete', atOrg));
  });

  test("a Developer role manages a key it owns (the action's owner variant), not another's, and the refusal names the variant it was judged by", () => {
    const developer = principal([binding('DeveloperManage', 'resource', CLUSTER)]);
    for (const action of ['api_key.manage_scoped', 'cluster_key.manage'] as const) {
      assert.doesNotThrow(() => authorize(developer, action, { ...atCluster, ownerId: 'sa-alice' }));
      assert.throws(
        () => authorize(developer, action, { ...atCluster, ownerId: 'sa-bob' }),
        (error) => error instanceof DomainError && error.code === 'forbidden' && error.detail.includes(action),
      );
    }
    const reader = principal([binding('Verifier', 'organization', ORG)]);
    assert.throws(
      () => authorize(reader, 'cluster_key.manage', { ...atCluster, ownerId: 'sa-alice' }),
      (error) => error instanceof DomainError && error.detail.includes('cluster_key.manage_own'),
    );
  });
});

describe('assertMayIssueKeyFor: whose secrets a caller may hold (create and rotate)', () => {
  const sa = (grants: KeyOwner['grants'], id = 'sa-bot'): KeyOwner => ({ id, kind: 'service_account', grants });
  const human = (grants: KeyOwner['grants']): KeyOwner => ({ id: 'u-bob', kind: 'user', grants });
  const allowed = (actor: Actor, owner: KeyOwner) => {
    try {
      assertMayIssueKeyFor(actor, ORG, owner);
      return true;
    } catch (error) {
      assert.ok(error instanceof DomainError && (error.code === 'forbidden' || error.code === 'not_found'), String(error));
      return false;
    }
  };
  const orgAdmin = principal([binding('OrganizationAdmin', 'organization', ORG)]);
  const operator = principal([binding('Operator', 'organization', ORG)]);
  const envAdmin = principal([binding('EnvironmentAdmin', 'environment', ENV)]);
  const clusterAdmin = principal([binding('CloudClusterAdmin', 'resource', CLUSTER)]);

  test('root and an OrganizationAdmin may issue keys for anyone in the organization, humans included', () => {
    const admin = human([{ role: 'OrganizationAdmin', target: atOrg }]);
    assert.equal(allowed(root, admin), true);
    assert.equal(allowed(orgAdmin, admin), true);
  });

  test('anyone may issue keys for itself', () => {
    assert.equal(allowed(operator, sa([{ role: 'Operator', target: atOrg }], 'sa-alice')), true);
  });

  test('an Operator may not borrow a human OrganizationAdmin, nor a service account with more than it holds', () => {
    assert.equal(allowed(operator, human([{ role: 'OrganizationAdmin', target: atOrg }])), false);
    assert.equal(allowed(operator, human([])), false, 'other humans are never borrowed, whatever they hold');
    assert.equal(allowed(operator, sa([{ role: 'OrganizationAdmin', target: atOrg }])), false);
    assert.equal(allowed(operator, sa([{ role: 'DeveloperRead', target: atCluster }])), false, 'Operator grants no data access');
    assert.equal(allowed(operator, sa([{ role: 'Operator', target: atCluster }])), true);
    assert.equal(allowed(operator, sa([])), true, 'a service account holding nothing borrows nothing');
  });

  test('an EnvironmentAdmin may issue keys for service accounts whose roles lie inside its environment', () => {
    assert.equal(
      allowed(
        envAdmin,
        sa([
          { role: 'DeveloperRead', target: atCluster },
          { role: 'ResourceOwner', target: atEnv },
        ]),
      ),
      true,
    );
    assert.equal(allowed(envAdmin, sa([{ role: 'DeveloperRead', target: { orgId: ORG, environmentId: OTHER_ENV, resourceId: 'lkc-x' } }])), false);
    assert.equal(
      allowed(
        envAdmin,
        sa([
          { role: 'EnvironmentAdmin', target: atEnv },
          { role: 'Operator', target: atOrg },
        ]),
      ),
      false,
    );
  });

  test('a CloudClusterAdmin covers data roles on its own cluster only', () => {
    assert.equal(allowed(clusterAdmin, sa([{ role: 'DeveloperWrite', target: atCluster }])), true);
    assert.equal(allowed(clusterAdmin, sa([{ role: 'DeveloperWrite', target: atOtherCluster }])), false);
    assert.equal(allowed(clusterAdmin, sa([{ role: 'EnvironmentAdmin', target: atEnv }])), false);
  });

  test('a Developer role implies nothing but itself', () => {
    const developer = principal([binding('DeveloperManage', 'resource', CLUSTER)]);
    assert.equal(allowed(developer, sa([{ role: 'DeveloperManage', target: atCluster }])), true);
    assert.equal(allowed(developer, sa([{ role: 'DeveloperWrite', target: atCluster }])), false);
  });

  test('another organization is never allowed', () => {
    assert.equal(allowed(principal([binding('OrganizationAdmin', 'organization', OTHER_ORG)], OTHER_ORG), sa([])), false);
  });
});
