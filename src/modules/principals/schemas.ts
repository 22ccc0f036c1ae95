import { z } from 'zod';
import type { Principal } from '../../generated/prisma/client.js';
import { displayName, isoTime, orgIdParam, timestamp } from '../../schemas/common.js';

const description = z.string().max(1024);
// Lower-cased so that Alice@example.com and alice@example.com are one user.
const email = z.email().max(254).toLowerCase();
const fullName = z.string().trim().max(256);

export const createServiceAccountBody = z
  .strictObject({
    display_name: displayName.describe('Unique within the organization'),
    description: description.optional(),
  })
  .meta({ examples: [{ display_name: 'orders-service', description: 'Produces to the orders topics' }] });

export const updateServiceAccountBody = z
  .strictObject({
    display_name: displayName.optional().describe('Unique within the organization'),
    description: description.optional(),
  })
  .meta({ examples: [{ description: 'Produces to and consumes from the orders topics' }] });

export const serviceAccountSchema = z
  .object({
    id: z.string(),
    display_name: z.string(),
    description: z.string(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'ServiceAccount' });

export const createUserBody = z
  .strictObject({
    email: email.describe('Unique within the organization, compared case-insensitively'),
    full_name: fullName.optional(),
  })
  .meta({ examples: [{ email: 'ada@example.com', full_name: 'Ada Lovelace' }] });

export const updateUserBody = z
  .strictObject({
    email: email.optional().describe('Unique within the organization, compared case-insensitively'),
    full_name: fullName.optional(),
  })
  .meta({ examples: [{ full_name: 'Ada King' }] });

export const userSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    full_name: z.string(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'User' });

export const serviceAccountParams = orgIdParam.extend({ sa_id: z.string().min(1).max(80) });
export const userParams = orgIdParam.extend({ user_id: z.string().min(1).max(80) });

export const deletePrincipalQuery = z.strictObject({
  force: z.enum(['true', 'false']).default('false').describe('Delete even when its API keys were used recently (within the organization’s recent_use_hours)'),
});

export function presentServiceAccount(principal: Principal): z.output<typeof serviceAccountSchema> {
  return {
    id: principal.id,
    display_name: principal.displayName ?? '',
    description: principal.description ?? '',
    created_at: isoTime(principal.createdAt),
    updated_at: isoTime(principal.updatedAt),
  };
}

export function presentUser(principal: Principal): z.output<typeof userSchema> {
  return {
    id: principal.id,
    email: principal.email ?? '',
    full_name: principal.fullName ?? '',
    created_at: isoTime(principal.createdAt),
    updated_at: isoTime(principal.updatedAt),
  };
}
