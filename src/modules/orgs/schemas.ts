import { z } from 'zod';
import type { Organization } from '../../generated/prisma/client.js';
import { displayName, isoTime, timestamp } from '../../schemas/common.js';

const orgSlug = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a slug: lowercase letters, digits and inner hyphens, at most 63 characters');

/** Per-organization overrides of the service-wide defaults. */
export const orgSettings = z
  .strictObject({
    cloud_key_quota: z.number().int().min(0).max(100_000).optional().describe('Cloud API keys per principal'),
    key_quota: z.number().int().min(0).max(1_000_000).optional().describe('Resource and Flink API keys per principal'),
    recent_use_hours: z.number().int().min(0).max(8760).optional().describe('Deleting a principal whose keys were used this recently needs ?force=true'),
    cluster_key_algorithm: z.enum(['RS256', 'ES256']).optional().describe("Algorithm of new cluster-key signing keys (default RS256, Pulsar's default)"),
  })
  .meta({ id: 'OrganizationSettings' });
export type OrgSettings = z.infer<typeof orgSettings>;

export const createOrgBody = z
  .strictObject({
    name: orgSlug.describe('Unique slug'),
    display_name: displayName.optional(),
    settings: orgSettings.optional(),
  })
  .meta({ examples: [{ name: 'acme', display_name: 'Acme Corp' }] });

/** PATCH merges: a named setting changes, `null` removes it (back to the service default), others stay. */
const orgSettingsPatch = z
  .strictObject(
    Object.fromEntries(Object.entries(orgSettings.shape).map(([name, field]) => [name, field.nullable()])) as {
      [K in keyof typeof orgSettings.shape]: z.ZodNullable<(typeof orgSettings.shape)[K]>;
    },
  )
  .meta({ id: 'OrganizationSettingsPatch' });
export type OrgSettingsPatch = z.infer<typeof orgSettingsPatch>;

export const updateOrgBody = z
  .strictObject({
    display_name: displayName.optional(),
    settings: orgSettingsPatch.optional().describe('Merged into the current settings; null removes a setting'),
  })
  .meta({ examples: [{ display_name: 'Acme Corporation' }] });

export const organizationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    display_name: z.string(),
    settings: orgSettings,
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Organization' });

export const orgParams = z.strictObject({ org_id: z.string().max(80) });
export const deleteOrgQuery = z.strictObject({
  force: z.enum(['true', 'false']).default('false').describe('Delete even when the organization still holds environments or principals'),
});

export function presentOrganization(org: Organization): z.output<typeof organizationSchema> {
  return {
    id: org.id,
    name: org.name,
    display_name: org.displayName,
    settings: orgSettings.parse(org.settings),
    created_at: isoTime(org.createdAt),
    updated_at: isoTime(org.updatedAt),
  };
}
