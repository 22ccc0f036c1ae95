import { z } from 'zod';
import type { Principal } from '../../generated/prisma/client.js';
import { displayName, isoTime, timestamp } from '../../schemas/common.js';
import type { ApiKeyWithOwner } from '../api-keys/schemas.js';

/*
 * Request and response shapes of Confluent Cloud's IAM v2 API (iam.v2.ApiKey, iam.v2.ApiKeyList,
 * iam.v2.ServiceAccount, Failure), as its OpenAPI document and the confluent CLI use them.
 * Links (`self`, `related`, `next`) are paths on this service; CRNs use the authority `latchkey`.
 */

const API_VERSION = 'iam/v2';
const CRN = 'crn://latchkey';

// Request bodies name every field Confluent's SDKs, CLI and Terraform provider send; anything else is 422.
const objectReference = {
  id: z.string().trim().min(1).max(255),
  kind: z.string().max(64).optional().describe('Ignored: the id decides'),
  api_version: z.string().max(64).optional().describe('Ignored, except that `fcpm/v2` requires a Flink id'),
  related: z.string().max(2048).optional().describe('Ignored'),
  resource_name: z.string().max(2048).optional().describe('Ignored'),
};

export const createConfluentApiKeyBody = z
  .strictObject({
    api_version: z.literal(API_VERSION).optional(),
    kind: z.literal('ApiKey').optional(),
    spec: z.strictObject({
      display_name: z.string().trim().max(128).optional(),
      description: z.string().max(1024).optional(),
      owner: z.strictObject(objectReference).describe('The service account (sa-) or user (u-) that will own the key'),
      resource: z
        .strictObject({ ...objectReference, environment: z.string().max(255).optional().describe('Ignored') })
        .nullable()
        .optional()
        .describe('`lkc-`/`lsrc-`/`lksqlc-` id, `cloud` (case-insensitive; also when omitted) or `env-xxx.<cloud>.<region>` for Flink'),
    }),
  })
  .meta({
    examples: [
      {
        spec: { display_name: 'orders-producer', description: 'CI for the orders service', owner: { id: 'sa-rsd4zqh9h2' }, resource: { id: 'lkc-v3kb92fbb4' } },
      },
    ],
  });
export type CreateConfluentApiKeyBody = z.infer<typeof createConfluentApiKeyBody>;

/** Only spec.display_name and spec.description change; other spec fields are answered 422 immutable_field. */
export const updateConfluentApiKeyBody = z
  .strictObject({
    api_version: z.literal(API_VERSION).optional(),
    kind: z.literal('ApiKey').optional(),
    spec: z
      .object({ display_name: z.string().trim().max(128).optional(), description: z.string().max(1024).optional() })
      .catchall(z.unknown())
      .default({}),
  })
  .meta({ examples: [{ spec: { description: 'Producer of the orders service' } }] });

// Unknown query parameters are ignored, as Confluent's API does; `spec.owner=` (empty) means no filter.
const pageFields = {
  page_size: z.coerce.number().int().min(1).max(100).default(10).describe('Items per page, 1 to 100'),
  page_token: z.string().max(255).optional().describe('From `metadata.next` of the previous page'),
};

export const listConfluentApiKeysQuery = z.object({
  'spec.owner': z.string().max(80).optional().describe('Keys of this service account or user'),
  'spec.resource': z.string().max(160).optional().describe('Keys of this resource id, `cloud`, or `env-xxx.<cloud>.<region>`'),
  ...pageFields,
});

export const keyIdParams = z.strictObject({ id: z.string().min(1).max(80) });

export const createConfluentServiceAccountBody = z
  .strictObject({
    api_version: z.literal(API_VERSION).optional(),
    kind: z.literal('ServiceAccount').optional(),
    display_name: displayName.describe('Unique within the organization'),
    description: z.string().max(1024).optional(),
  })
  .meta({ examples: [{ display_name: 'orders-service', description: 'Produces to the orders topics' }] });

export const updateConfluentServiceAccountBody = z
  .strictObject({
    api_version: z.literal(API_VERSION).optional(),
    kind: z.literal('ServiceAccount').optional(),
    display_name: displayName.optional(),
    description: z.string().max(1024).optional(),
  })
  .meta({ examples: [{ description: 'Produces to and consumes from the orders topics' }] });

const filterName = z
  .string()
  .min(1)
  .max(128)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the pattern refuses control characters, so it has to name them
  .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');

export const listConfluentServiceAccountsQuery = z.object({
  display_name: z
    .union([filterName, z.array(filterName).max(100)])
    .optional()
    .describe('Only service accounts with this display name (exact match); repeat the parameter for several, as Confluent does'),
  ...pageFields,
});

export const serviceAccountIdParams = z.strictObject({ id: z.string().min(1).max(80) });

export const deleteConfluentServiceAccountQuery = z.object({
  force: z.enum(['true', 'false']).default('false').describe('Latchkey extension: delete even when its API keys were used recently (otherwise 409)'),
});

// Responses: allowlists, so that nothing but these fields can leave the service.

const reference = <K extends z.ZodType>(kind: K) => z.object({ id: z.string(), kind, api_version: z.string(), related: z.string(), resource_name: z.string() });

const objectMeta = z.object({
  self: z.string().describe('Path of this object'),
  resource_name: z.string().describe('CRN of this object'),
  created_at: timestamp,
  updated_at: timestamp,
});

const apiKeySpec = {
  display_name: z.string(),
  description: z.string(),
  owner: reference(z.enum(['ServiceAccount', 'User'])),
  resource: reference(z.enum(['Cloud', 'Cluster', 'SchemaRegistry', 'ksqlDB', 'Region'])).extend({
    environment: z.string().optional().describe('For Flink keys: their environment'),
  }),
  expires_at: timestamp.optional(),
};

const apiKeyFields = {
  api_version: z.literal(API_VERSION),
  kind: z.literal('ApiKey'),
  id: z.string(),
  metadata: objectMeta,
};

export const confluentApiKeySchema = z.object({ ...apiKeyFields, spec: z.object(apiKeySpec) }).meta({ id: 'IamV2ApiKey' });
export const createdConfluentApiKeySchema = z
  .object({ ...apiKeyFields, spec: z.object({ ...apiKeySpec, secret: z.string().describe('Shown in this response only') }) })
  .meta({ id: 'IamV2ApiKeyWithSecret' });

/** `next` is absent on the last page: the confluent CLI dereferences a null `next`. */
const listMeta = z.object({ first: z.string(), next: z.string().optional() });

export const confluentApiKeyListSchema = z
  .object({ api_version: z.literal(API_VERSION), kind: z.literal('ApiKeyList'), metadata: listMeta, data: z.array(confluentApiKeySchema) })
  .meta({ id: 'IamV2ApiKeyList' });

export const confluentServiceAccountSchema = z
  .object({
    api_version: z.literal(API_VERSION),
    kind: z.literal('ServiceAccount'),
    id: z.string(),
    metadata: objectMeta,
    display_name: z.string(),
    description: z.string(),
  })
  .meta({ id: 'IamV2ServiceAccount' });

export const confluentServiceAccountListSchema = z
  .object({
    api_version: z.literal(API_VERSION),
    kind: z.literal('ServiceAccountList'),
    metadata: listMeta,
    data: z.array(confluentServiceAccountSchema),
  })
  .meta({ id: 'IamV2ServiceAccountList' });

export const failureSchema = z
  .object({
    errors: z.array(
      z.object({
        id: z.string().describe('The request id'),
        status: z.string().describe('The HTTP status, as a string'),
        code: z.string(),
        title: z.string(),
        detail: z.string(),
        source: z.object({ pointer: z.string().optional(), parameter: z.string().optional() }).optional(),
      }),
    ),
  })
  .meta({ id: 'IamV2Failure', description: 'Confluent’s error shape' });
export type Failure = z.output<typeof failureSchema>;

type ConfluentApiKeyOut = z.output<typeof confluentApiKeySchema>;

function ownerReference(orgId: string, owner: ApiKeyWithOwner['owner']): ConfluentApiKeyOut['spec']['owner'] {
  const isUser = owner.kind === 'user';
  return {
    id: owner.id,
    kind: isUser ? 'User' : 'ServiceAccount',
    api_version: API_VERSION,
    related: isUser ? `/v1/orgs/${orgId}/users/${owner.id}` : `/iam/v2/service-accounts/${owner.id}`,
    resource_name: `${CRN}/organization=${orgId}/${isUser ? 'user' : 'service-account'}=${owner.id}`,
  };
}

// Resource ids carry their kind in the prefix (API.md), so no lookup is needed to name it.
const RESOURCE_KINDS = [
  { prefix: 'lkc-', kind: 'Cluster', api_version: 'cmk/v2', crn: 'cloud-cluster' },
  { prefix: 'lsrc-', kind: 'SchemaRegistry', api_version: 'srcm/v2', crn: 'schema-registry' },
  { prefix: 'lksqlc-', kind: 'ksqlDB', api_version: 'ksqldbcm/v2', crn: 'ksql' },
] as const;

function resourceReference(key: ApiKeyWithOwner): ConfluentApiKeyOut['spec']['resource'] {
  const org = `${CRN}/organization=${key.orgId}`;
  switch (key.type) {
    case 'cloud':
      // Confluent documents no api_version for cloud keys; they address the management API, iam/v2 among it.
      return { id: 'cloud', kind: 'Cloud', api_version: API_VERSION, related: `/v1/orgs/${key.orgId}`, resource_name: org };
    case 'flink': {
      const region = `${key.cloud ?? ''}.${key.region ?? ''}`;
      return {
        id: `${key.environmentId ?? ''}.${region}`,
        kind: 'Region',
        api_version: 'fcpm/v2',
        related: '/v1/flink-regions',
        resource_name: `${org}/environment=${key.environmentId ?? ''}/flink-region=${region}`,
        environment: key.environmentId ?? undefined,
      };
    }
    case 'resource': {
      const id = key.resourceId ?? '';
      const known = RESOURCE_KINDS.find((k) => id.startsWith(k.prefix)) ?? RESOURCE_KINDS[0];
      return {
        id,
        kind: known.kind,
        api_version: known.api_version,
        related: `/v1/orgs/${key.orgId}/resources/${id}`,
        resource_name: `${org}/${known.crn}=${id}`,
      };
    }
  }
}

export function presentConfluentApiKey(key: ApiKeyWithOwner): ConfluentApiKeyOut {
  return {
    api_version: API_VERSION,
    kind: 'ApiKey',
    id: key.id,
    metadata: {
      self: `/iam/v2/api-keys/${key.id}`,
      resource_name: `${CRN}/organization=${key.orgId}/api-key=${key.id}`,
      created_at: isoTime(key.createdAt),
      updated_at: isoTime(key.updatedAt),
    },
    spec: {
      display_name: key.displayName,
      description: key.description,
      owner: ownerReference(key.orgId, key.owner),
      resource: resourceReference(key),
      ...(key.expiresAt ? { expires_at: isoTime(key.expiresAt) } : {}),
    },
  };
}

export function presentCreatedConfluentApiKey(key: ApiKeyWithOwner, secret: string): z.output<typeof createdConfluentApiKeySchema> {
  const presented = presentConfluentApiKey(key);
  return { ...presented, spec: { ...presented.spec, secret } };
}

export function presentConfluentServiceAccount(principal: Principal): z.output<typeof confluentServiceAccountSchema> {
  return {
    api_version: API_VERSION,
    kind: 'ServiceAccount',
    id: principal.id,
    metadata: {
      self: `/iam/v2/service-accounts/${principal.id}`,
      resource_name: `${CRN}/organization=${principal.orgId}/service-account=${principal.id}`,
      created_at: isoTime(principal.createdAt),
      updated_at: isoTime(principal.updatedAt),
    },
    display_name: principal.displayName ?? '',
    description: principal.description ?? '',
  };
}

/** Confluent's list metadata: `first` without a token, `next` only while there are more. */
export function listMetadata(path: string, query: Record<string, string | string[] | number | undefined>, nextPageToken: string | null) {
  const link = (extra: Record<string, string>) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries({ ...query, ...extra })) {
      if (Array.isArray(value)) for (const item of value) params.append(name, item);
      else if (value !== undefined && value !== '') params.set(name, String(value));
    }
    const search = params.toString();
    return search ? `${path}?${search}` : path;
  };
  return { first: link({}), ...(nextPageToken ? { next: link({ page_token: nextPageToken }) } : {}) };
}
