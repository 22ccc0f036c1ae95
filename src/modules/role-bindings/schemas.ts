import { z } from 'zod';
import { ROLES, type Role } from '../../auth/roles.js';
import type { RoleBinding } from '../../generated/prisma/client.js';
import { ScopeType } from '../../generated/prisma/enums.js';
import { isoTime, orgIdParam, pageQuery, prefixedId, timestamp } from '../../schemas/common.js';
import { resourceId } from '../resources/schemas.js';

const role = z.enum(ROLES).describe('A Confluent Cloud role, or Verifier; each may sit only on some scope types');
const principalId = z.string().regex(/^(sa|u)-[a-z0-9]{1,64}$/, 'must be a service account or user id (sa-... or u-...)');

const roleBindingScope = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('organization') }),
  z.strictObject({ type: z.literal('environment'), id: prefixedId('env', 'environment') }),
  z.strictObject({ type: z.literal('resource'), id: resourceId }),
]);
export type RoleBindingScope = z.output<typeof roleBindingScope>;

export const createRoleBindingBody = z
  .strictObject({
    principal: principalId.describe('A service account or user of the organization'),
    role,
    scope: roleBindingScope.describe('Where the role applies: the organization, one environment, or one resource'),
  })
  .meta({ examples: [{ principal: 'sa-rsd4zqh9h2', role: 'OrganizationAdmin', scope: { type: 'organization' } }] });

export const roleBindingQuery = pageQuery.extend({
  principal: z.string().max(80).optional().describe('Only bindings of this principal'),
  role: role.optional().describe('Only bindings of this role'),
});

export const roleBindingSchema = z
  .object({
    id: z.string(),
    principal: z.string(),
    role,
    scope: z.object({
      type: z.enum(ScopeType),
      id: z.string().optional().describe('The environment or resource id; absent for organization scope'),
    }),
    created_at: timestamp,
  })
  .meta({ id: 'RoleBinding' });

export const roleBindingParams = orgIdParam.extend({ rb_id: z.string().min(1).max(80) });

export function presentRoleBinding(binding: RoleBinding): z.output<typeof roleBindingSchema> {
  return {
    id: binding.id,
    principal: binding.principalId,
    role: binding.role as Role,
    scope: binding.scopeType === 'organization' ? { type: 'organization' } : { type: binding.scopeType, id: binding.scopeId },
    created_at: isoTime(binding.createdAt),
  };
}
