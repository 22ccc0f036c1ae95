import { z } from 'zod';
import { PROBLEMS } from '../errors.js';
import { isStorableTime } from '../lib/pagination.js';

export const timestamp = z.iso
  .datetime({ offset: true })
  // Year 0000 parses in JS but not in Postgres; beyond 9999 neither agrees: refuse both here.
  .refine((value) => isStorableTime(new Date(value)), 'must be between 1970-01-01 and 9999-12-31')
  .describe('RFC 3339 timestamp, UTC');

/** Dates leave the service as RFC 3339 strings in UTC. */
export const isoTime = (date: Date) => date.toISOString();
export const isoTimeOrNull = (date: Date | null | undefined) => (date ? date.toISOString() : null);

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.enum(Object.keys(PROBLEMS) as [keyof typeof PROBLEMS, ...Array<keyof typeof PROBLEMS>]),
    request_id: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

/** Error responses every authenticated route can give; each route adds its own specific ones. */
export const standardErrors = {
  400: problemSchema,
  401: problemSchema,
  403: problemSchema,
  404: problemSchema,
  409: problemSchema,
  413: problemSchema,
  415: problemSchema,
  422: problemSchema,
  429: problemSchema,
  500: problemSchema,
  503: problemSchema,
} as const;

export const pageQuery = z.strictObject({
  page_size: z.coerce.number().int().min(1).max(100).default(20).describe('Items per page, 1 to 100'),
  page_token: z.string().max(512).optional().describe('`next_page_token` of the previous page'),
});

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({
    data: z.array(item),
    next_page_token: z.string().nullable(),
  });

const idPattern = (prefix: string) => new RegExp(`^${prefix}-[a-z0-9]{1,64}$`);
export const prefixedId = (prefix: string, what: string) => z.string().regex(idPattern(prefix), `must be a ${what} id (${prefix}-...)`);

export const orgIdParam = z.strictObject({ org_id: z.string().min(1).max(80) });

export const displayName = z.string().trim().min(1).max(128);
