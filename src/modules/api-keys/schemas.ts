import { z } from 'zod';
import type { ApiKey, Prisma } from '../../generated/prisma/client.js';
import { isoTime, isoTimeOrNull, pageQuery, timestamp } from '../../schemas/common.js';

const apiKeyScope = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('resource'), resource_id: z.string().min(1).max(80).describe('A kafka_cluster, schema_registry or ksqldb_cluster id') }),
    z.strictObject({ type: z.literal('cloud') }),
    z.strictObject({
      type: z.literal('flink'),
      environment_id: z.string().min(1).max(80),
      cloud: z.string().min(1).max(16),
      region: z.string().min(1).max(64).describe('From GET /v1/flink-regions'),
    }),
  ])
  .meta({ id: 'ApiKeyScope' });
export type ApiKeyScope = z.infer<typeof apiKeyScope>;

export const createApiKeyBody = z
  .strictObject({
    owner: z.string().min(1).max(80).describe('Service account (sa-) or user (u-) id'),
    scope: apiKeyScope,
    display_name: z.string().trim().max(128).optional(),
    description: z.string().max(1024).optional(),
    expires_at: timestamp.optional().describe('Must be in the future; omitted: never expires'),
  })
  .meta({
    examples: [
      {
        owner: 'sa-rsd4zqh9h2',
        scope: { type: 'resource', resource_id: 'lkc-v3kb92fbb4' },
        display_name: 'orders-producer',
        description: 'CI for the orders service',
        expires_at: '2027-06-01T00:00:00Z',
      },
    ],
  });

/** Only these two fields may change; anything else is answered 422 immutable_field by the service. */
export const updateApiKeyBody = z
  .object({
    display_name: z.string().trim().max(128).optional(),
    description: z.string().max(1024).optional(),
  })
  .catchall(z.unknown())
  .meta({ examples: [{ description: 'Producer of the orders service' }] });

export const rotateApiKeyBody = z
  .strictObject({
    grace_period_seconds: z.number().int().min(0).max(86_400).default(0).describe('How long the old secret keeps verifying'),
  })
  // Fastify hands a request without a body to validation as null.
  .nullish()
  .meta({ examples: [{ grace_period_seconds: 3600 }] });

const apiKeyStatus = z.enum(['active', 'expired', 'revoked']);

export const listApiKeysQuery = pageQuery.extend({
  owner: z.string().max(80).optional(),
  resource_id: z.string().max(80).optional(),
  type: z.enum(['cloud', 'resource', 'flink']).optional(),
  status: apiKeyStatus.optional(),
});

export const keyParams = z.strictObject({ org_id: z.string().max(80), key_id: z.string().max(80) });

const apiKeyFields = {
  id: z.string().describe('16 characters [A-Z0-9]'),
  secret_hint: z.string().describe('Last four characters of the current secret'),
  type: z.enum(['cloud', 'resource', 'flink']),
  owner: z.object({ id: z.string(), type: z.enum(['service_account', 'user']) }),
  scope: apiKeyScope,
  display_name: z.string(),
  description: z.string(),
  status: apiKeyStatus,
  created_at: timestamp,
  expires_at: timestamp.nullable(),
  last_used_at: timestamp.nullable(),
};

export const apiKeySchema = z.object(apiKeyFields).meta({ id: 'ApiKey' });
export const createdApiKeySchema = z.object({ ...apiKeyFields, secret: z.string().describe('Shown in this response only') }).meta({ id: 'ApiKeyWithSecret' });
export const rotatedApiKeySchema = z
  .object({
    ...apiKeyFields,
    secret: z.string().describe('Shown in this response only'),
    previous_secret_expires_at: timestamp.nullable().describe('The old secret verifies until then'),
  })
  .meta({ id: 'RotatedApiKey' });

/**
 * The columns a key's representation needs (here and in the Confluent adapter). Lists select only
 * these: a page never loads secret hashes, and Prisma maps a fifth fewer, and the largest, fields.
 */
export const presentedKeyColumns = {
  id: true,
  orgId: true,
  secretHint: true,
  type: true,
  resourceId: true,
  environmentId: true,
  cloud: true,
  region: true,
  displayName: true,
  description: true,
  status: true,
  expiresAt: true,
  lastUsedAt: true,
  createdAt: true,
  updatedAt: true,
  owner: { select: { id: true, kind: true } },
} as const satisfies Prisma.ApiKeySelect;

export type ApiKeyWithOwner = Prisma.ApiKeyGetPayload<{ select: typeof presentedKeyColumns }>;

function keyStatus(key: Pick<ApiKey, 'status' | 'expiresAt'>, now = new Date()): z.infer<typeof apiKeyStatus> {
  if (key.status === 'revoked') return 'revoked';
  if (key.expiresAt && key.expiresAt <= now) return 'expired';
  return 'active';
}

export function scopeOf(key: Pick<ApiKey, 'type' | 'resourceId' | 'environmentId' | 'cloud' | 'region'>): ApiKeyScope {
  switch (key.type) {
    case 'cloud':
      return { type: 'cloud' };
    case 'resource':
      return { type: 'resource', resource_id: key.resourceId ?? '' };
    case 'flink':
      return { type: 'flink', environment_id: key.environmentId ?? '', cloud: key.cloud ?? '', region: key.region ?? '' };
  }
}

export function presentApiKey(key: ApiKeyWithOwner): z.output<typeof apiKeySchema> {
  return {
    id: key.id,
    secret_hint: key.secretHint,
    type: key.type,
    owner: { id: key.owner.id, type: key.owner.kind },
    scope: scopeOf(key),
    display_name: key.displayName,
    description: key.description,
    status: keyStatus(key),
    created_at: isoTime(key.createdAt),
    expires_at: isoTimeOrNull(key.expiresAt),
    last_used_at: isoTimeOrNull(key.lastUsedAt),
  };
}

export const verifyApiKeyBody = z
  .strictObject({
    key: z.string().max(64).describe('API key id'),
    secret: z.string().max(256),
    resource_id: z.string().min(1).max(160).describe('What the caller guards: a resource id, `cloud`, or `env-xxx.<cloud>.<region>`'),
  })
  .meta({ examples: [{ key: 'AVB70UZ0J0HSHWNR', secret: 'lks_5ga6jf2kadQPco0DrO9BDgjFi5W9EczWzVNDYUanNe512YUdx', resource_id: 'lkc-v3kb92fbb4' }] });

export const verifyResultSchema = z
  .object({
    valid: z.boolean(),
    code: z.enum(['VALID', 'INVALID', 'EXPIRED', 'REVOKED', 'WRONG_RESOURCE']),
    key: z.object({ id: z.string(), type: z.enum(['cloud', 'resource', 'flink']), scope: apiKeyScope, expires_at: z.string().nullable() }).optional(),
    principal: z.object({ id: z.string(), type: z.enum(['service_account', 'user']) }).optional(),
    org_id: z.string().optional(),
  })
  .meta({ id: 'ApiKeyVerification' });
