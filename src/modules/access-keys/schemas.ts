import { z } from 'zod';
import type { AccessKey } from '../../generated/prisma/client.js';
import { isoTime, isoTimeOrNull, orgIdParam, pageQuery, timestamp } from '../../schemas/common.js';
import { KEY_FILTER_URL_MAX_LENGTH } from './key-filter.js';

const accessKeyName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'must be 1 to 63 characters of a-z, 0-9, ".", "_" or "-", starting with a letter or digit');

/** Fluvio's own rule for topic names. */
const fluvioTopic = z
  .string()
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be a Fluvio topic name: at most 63 lowercase letters, digits and hyphens, not starting or ending with a hyphen',
  );

const PARAM_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** `PARAM:URL`. The URL's own rules (https, no credentials, refused literals) are checked by the service. */
const keyFilterRemote = z
  .string()
  .max(64 + 1 + KEY_FILTER_URL_MAX_LENGTH)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces (percent-encode anything else in the URL)')
  .superRefine((value, ctx) => {
    const colon = value.indexOf(':');
    const param = colon < 0 ? '' : value.slice(0, colon);
    if (!PARAM_RE.test(param)) {
      ctx.addIssue({ code: 'custom', message: 'must be PARAM:URL with PARAM matching [A-Za-z_][A-Za-z0-9_]{0,63}' });
    } else if (param === 'access_key') {
      ctx.addIssue({ code: 'custom', message: 'PARAM cannot be access_key: the gateway already uses that query parameter' });
    }
  })
  .describe('`PARAM:URL`: the gateway passes the consumer’s `?PARAM=` value, Latchkey POSTs it to URL (https) and returns the answer as the key filter');

export const createAccessKeyBody = z
  .strictObject({
    name: accessKeyName.describe('Unique per cluster'),
    protocol: z.enum(['simple', 'fluvio']).optional().describe('`simple` (default): one topic over /wsr/v1/simple; `fluvio`: the full protocol'),
    topic: fluvioTopic.optional().describe('Required for simple keys; not allowed for fluvio keys'),
    consume: z.boolean().optional().describe('Neither consume nor produce given: both allowed'),
    produce: z.boolean().optional().describe('Neither consume nor produce given: both allowed'),
    key_filter_remote: keyFilterRemote.optional(),
  })
  .meta({ examples: [{ name: 'orders-reader', topic: 'orders', consume: true, key_filter_remote: 'tenant:https://filters.example.com/orders' }] });
export type CreateAccessKeyInput = z.output<typeof createAccessKeyBody>;

export const rotateAccessKeyBody = z
  .strictObject({
    grace_period_seconds: z.number().int().min(0).max(86_400).default(0).describe('How long the old key keeps verifying; 0 (default): it stops at once'),
  })
  // Fastify hands a request without a body to validation as null.
  .nullish()
  .meta({ examples: [{ grace_period_seconds: 3600 }] });

export const clusterParams = orgIdParam.extend({ cluster_id: z.string().min(1).max(80) });
export const accessKeyParams = clusterParams.extend({ name: z.string().min(1).max(80) });
export const listAccessKeysQuery = pageQuery;

const accessKeyFields = {
  name: z.string(),
  key_hint: z.string().describe('Last four characters of the current key'),
  protocol: z.enum(['simple', 'fluvio']),
  topic: z.string().nullable(),
  consume: z.boolean(),
  produce: z.boolean(),
  key_filter_remote: z.string().nullable(),
  cluster_id: z.string(),
  created_by: z.string().describe('The principal (or `root`) that created the key'),
  created_at: timestamp,
  rotated_at: timestamp.nullable(),
  last_used_at: timestamp.nullable(),
};

export const accessKeySchema = z.object(accessKeyFields).meta({ id: 'AccessKey' });
export const createdAccessKeySchema = z
  .object({ ...accessKeyFields, key: z.string().describe('Shown in this response only; travels as ?access_key=') })
  .meta({ id: 'AccessKeyWithKey' });
export const rotatedAccessKeySchema = z
  .object({
    ...accessKeyFields,
    key: z.string().describe('Shown in this response only'),
    previous_key_expires_at: timestamp.nullable().describe('The old key verifies until then; null: it stopped at once'),
  })
  .meta({ id: 'RotatedAccessKey' });

/** Every column but the hashes: lists and reads never load them. */
export const presentedAccessKeyColumns = {
  id: true,
  name: true,
  keyHint: true,
  protocol: true,
  topic: true,
  consume: true,
  produce: true,
  keyFilterRemote: true,
  clusterId: true,
  createdBy: true,
  createdAt: true,
  rotatedAt: true,
  lastUsedAt: true,
} as const;

export type PresentedAccessKey = Pick<AccessKey, keyof typeof presentedAccessKeyColumns>;

export function presentAccessKey(key: PresentedAccessKey): z.output<typeof accessKeySchema> {
  return {
    name: key.name,
    key_hint: key.keyHint,
    protocol: key.protocol,
    topic: key.topic,
    consume: key.consume,
    produce: key.produce,
    key_filter_remote: key.keyFilterRemote,
    cluster_id: key.clusterId,
    created_by: key.createdBy,
    created_at: isoTime(key.createdAt),
    rotated_at: isoTimeOrNull(key.rotatedAt),
    last_used_at: isoTimeOrNull(key.lastUsedAt),
  };
}

const paramValue = z
  .string()
  .max(4096)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the pattern refuses control characters, so it has to name them
  .regex(/^[^\u0000]*$/, 'must not contain NUL');

export const verifyAccessKeyBody = z
  .strictObject({
    access_key: z.string().max(128).describe('The `?access_key=` value the gateway received'),
    cluster_id: z.string().min(1).max(80),
    operation: z.enum(['consume', 'produce', 'fluvio']).describe('/wsr/v1/simple/consume, /wsr/v1/simple/produce or /wsr/v1/fluvio'),
    topic: z
      .string()
      .max(255)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the pattern refuses control characters, so it has to name them
      .regex(/^[^\u0000-\u001f]*$/, 'must not contain control characters')
      .optional()
      .describe('The topic the client asks for (simple endpoints)'),
    params: z
      .record(
        z
          .string()
          .min(1)
          .max(64)
          .regex(/^[A-Za-z0-9_]+$/, 'must be a query parameter name'),
        paramValue,
      )
      .refine((params) => Object.keys(params).length <= 32, 'at most 32 parameters')
      .optional()
      .describe('The other query parameters of the client’s WebSocket URL'),
  })
  .meta({
    examples: [
      {
        access_key: 'lkaQ3VJ8T2M5XK4N7B1D9wE6rT0yU2iO4pA8sD1fG3hJ5kL7zX9cV0bN2mQ4wE6rT8yU0iOp3Fk2',
        cluster_id: 'fc-2h7x9k1m4p',
        operation: 'consume',
        topic: 'orders',
        params: { tenant: 'acme' },
      },
    ],
  });

const verifyAccessKeyCodes = ['VALID', 'INVALID', 'WRONG_RESOURCE', 'FORBIDDEN', 'KEY_FILTER_REQUIRED', 'KEY_FILTER_UNAVAILABLE'] as const;

export const accessKeyVerificationSchema = z
  .object({
    valid: z.boolean(),
    code: z.enum(verifyAccessKeyCodes),
    key: z
      .object({ name: z.string(), protocol: z.enum(['simple', 'fluvio']), topic: z.string().nullable(), consume: z.boolean(), produce: z.boolean() })
      .optional(),
    cluster_id: z.string().optional(),
    org_id: z.string().optional(),
    key_filter: z.string().optional().describe('The remote key filter’s answer, for a consume with a remote key filter'),
  })
  .meta({ id: 'AccessKeyVerification' });
