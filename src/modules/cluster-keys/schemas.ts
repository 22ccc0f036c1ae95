import { z } from 'zod';
import type { ClusterKey, SigningKey } from '../../generated/prisma/client.js';
import { isoTime, isoTimeOrNull, pageQuery, timestamp } from '../../schemas/common.js';

/** Text that Postgres can store: no NUL, no other C0 control characters except tab and newlines. */
const storableText = (max: number) =>
  z
    .string()
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the pattern refuses control characters, so it has to name them
    .regex(/^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]*$/, 'must not contain control characters');

const clusterKeyName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1 to 64 letters, digits, dots, underscores or hyphens, starting with a letter or digit');

const principalId = z.string().regex(/^(sa|u)-[a-z0-9]{1,64}$/, 'must be a service account id (sa-...)');
const resourceId = z.string().regex(/^[a-z]{1,8}-[a-z0-9]{1,64}$/, 'must be a pulsar_cluster id (pc-...)');

export const createClusterKeyBody = z
  .strictObject({
    name: clusterKeyName.describe("Unique among the organization's listed cluster keys"),
    owner: principalId.describe("The service account the key acts as (the token's `sub`, the Pulsar role)"),
    cluster_id: resourceId.describe("The pulsar_cluster the key is for (the token's `aud`)"),
    description: storableText(1024).optional(),
    expires_at: timestamp
      .nullable()
      .optional()
      .describe('Must be in the future; omitted: 30 days from now (LATCHKEY_CLUSTER_KEY_DEFAULT_DAYS); null: never expires'),
  })
  .meta({
    examples: [
      {
        name: 'orders-broker-client',
        owner: 'sa-rsd4zqh9h2',
        cluster_id: 'pc-7q2w9e4r1t',
        description: 'Producer of the orders service',
        expires_at: '2027-06-01T00:00:00Z',
      },
    ],
  });

const clusterKeyStatus = z.enum(['active', 'revoked', 'expired']);

export const listClusterKeysQuery = pageQuery.extend({
  owner: z
    .string()
    .max(80)
    .regex(/^[A-Za-z0-9_-]*$/, 'must be a principal id')
    .optional(),
  cluster_id: z
    .string()
    .max(80)
    .regex(/^[A-Za-z0-9_-]*$/, 'must be a resource id')
    .optional(),
  status: clusterKeyStatus.optional(),
});

const idSegment = (what: string) => z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, `must be ${what} id`);
/** Path ids are checked before any query: a NUL or other stray byte never reaches Postgres. */
export const orgParams = z.strictObject({ org_id: idSegment('an organization') });
export const clusterKeyParams = z.strictObject({ org_id: idSegment('an organization'), key_id: idSegment('a cluster key') });

const clusterKeyFields = {
  id: z.string().describe("ck-…; the token's `jti`"),
  name: z.string(),
  owner: z.object({ id: z.string(), type: z.enum(['service_account', 'user']) }),
  cluster_id: z.string(),
  description: z.string(),
  status: clusterKeyStatus,
  created_at: timestamp,
  expires_at: timestamp.nullable().describe('null: never expires'),
  revoked_at: timestamp.nullable(),
  last_used_at: timestamp.nullable(),
};

export const clusterKeySchema = z.object(clusterKeyFields).meta({ id: 'ClusterKey' });
export const createdClusterKeySchema = z
  .object({ ...clusterKeyFields, token: z.string().describe('The signed JWT; shown in this response only') })
  .meta({ id: 'ClusterKeyWithToken' });

export type ClusterKeyRow = Pick<ClusterKey, 'id' | 'name' | 'ownerId' | 'clusterId' | 'description' | 'createdAt' | 'expiresAt' | 'revokedAt' | 'lastUsedAt'>;

function clusterKeyStatusOf(key: Pick<ClusterKey, 'revokedAt' | 'expiresAt'>, now = new Date()): z.infer<typeof clusterKeyStatus> {
  if (key.revokedAt) return 'revoked';
  if (key.expiresAt && key.expiresAt <= now) return 'expired';
  return 'active';
}

export function presentClusterKey(key: ClusterKeyRow): z.output<typeof clusterKeySchema> {
  return {
    id: key.id,
    name: key.name,
    owner: { id: key.ownerId, type: 'service_account' },
    cluster_id: key.clusterId,
    description: key.description,
    status: clusterKeyStatusOf(key),
    created_at: isoTime(key.createdAt),
    expires_at: isoTimeOrNull(key.expiresAt),
    revoked_at: isoTimeOrNull(key.revokedAt),
    last_used_at: isoTimeOrNull(key.lastUsedAt),
  };
}

const signingAlgorithm = z.enum(['RS256', 'ES256']);

export const createSigningKeyBody = z
  .strictObject({
    activate_at: timestamp.optional().describe('When the key starts signing (default now); it is in the JWKS from creation'),
    algorithm: signingAlgorithm.optional().describe('Default: the organization setting cluster_key_algorithm, else RS256'),
  })
  // Fastify hands a request without a body to validation as null.
  .nullish()
  .meta({ examples: [{ activate_at: '2027-01-01T00:00:00Z', algorithm: 'RS256' }] });

const jwkSchema = z.record(z.string(), z.unknown()).describe('Public JWK');

export const signingKeySchema = z
  .object({
    kid: z.string(),
    algorithm: signingAlgorithm,
    status: z.enum(['pending', 'active', 'retired']).describe('pending: activate_at is ahead; retired: a newer key signs'),
    created_at: timestamp,
    activate_at: timestamp,
    public_jwk: jwkSchema,
  })
  .meta({ id: 'ClusterSigningKey' });

export function presentSigningKey(key: SigningKey, activeKid: string | null, now = new Date()): z.output<typeof signingKeySchema> {
  const activateAt = key.activateAt ?? key.createdAt;
  const status = key.kid === activeKid ? 'active' : activateAt > now ? 'pending' : 'retired';
  return {
    kid: key.kid,
    algorithm: key.alg as z.infer<typeof signingAlgorithm>,
    status,
    created_at: isoTime(key.createdAt),
    activate_at: isoTime(activateAt),
    public_jwk: key.publicJwk as Record<string, unknown>,
  };
}

export const jwksSchema = z.object({ keys: z.array(jwkSchema) }).meta({ id: 'JsonWebKeySet' });

export const openIdConfigurationSchema = z
  .object({
    issuer: z.string(),
    jwks_uri: z.string(),
    id_token_signing_alg_values_supported: z.array(z.string()),
    response_types_supported: z.array(z.string()),
    subject_types_supported: z.array(z.string()),
    claims_supported: z.array(z.string()),
  })
  .meta({ id: 'OpenIdConfiguration' });

export const revocationsQuery = z.strictObject({
  cluster_id: z
    .string()
    .max(80)
    .regex(/^[A-Za-z0-9_-]*$/, 'must be a resource id')
    .optional(),
});

export const revocationsSchema = z
  .object({
    data: z.array(z.object({ id: z.string(), cluster_id: z.string(), revoked_at: timestamp, expires_at: timestamp.nullable() })),
  })
  .meta({ id: 'ClusterKeyRevocations' });

export const verifyClusterKeyBody = z
  .strictObject({
    token: z.string().min(1).max(16_384).describe('The cluster key (a JWT) as presented to the broker'),
    cluster_id: z.string().min(1).max(80).describe('The pulsar_cluster the caller guards'),
  })
  .meta({
    examples: [
      {
        token: 'eyJhbGciOiJSUzI1NiIsImtpZCI6IkJ2b0p0bTlZcUZ3cjNXaGEiLCJ0eXAiOiJKV1QifQ.eyJzdWIiOiJzYS1yc2Q0enFoOWgyIn0.c2lnbmF0dXJl',
        cluster_id: 'pc-7q2w9e4r1t',
      },
    ],
  });

export const clusterKeyVerificationSchema = z
  .object({
    valid: z.boolean(),
    code: z.enum(['VALID', 'INVALID', 'EXPIRED', 'REVOKED', 'WRONG_RESOURCE']),
    key: z.object({ id: z.string(), name: z.string(), cluster_id: z.string(), expires_at: z.string().nullable() }).optional(),
    principal: z.object({ id: z.string(), type: z.enum(['service_account', 'user']) }).optional(),
    org_id: z.string().optional(),
  })
  .meta({ id: 'ClusterKeyVerification' });
