import { z } from 'zod';
import type { Environment } from '../../generated/prisma/client.js';
import { displayName, isoTime, orgIdParam, timestamp } from '../../schemas/common.js';

export const createEnvironmentBody = z
  .strictObject({
    display_name: displayName.describe('Unique within the organization'),
  })
  .meta({ examples: [{ display_name: 'production' }] });

export const updateEnvironmentBody = z
  .strictObject({
    display_name: displayName.optional().describe('Unique within the organization'),
  })
  .meta({ examples: [{ display_name: 'prod' }] });

export const environmentSchema = z
  .object({
    id: z.string(),
    display_name: z.string(),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Environment' });

export const environmentParams = orgIdParam.extend({ env_id: z.string().min(1).max(80) });

export function presentEnvironment(environment: Environment): z.output<typeof environmentSchema> {
  return {
    id: environment.id,
    display_name: environment.displayName,
    created_at: isoTime(environment.createdAt),
    updated_at: isoTime(environment.updatedAt),
  };
}
