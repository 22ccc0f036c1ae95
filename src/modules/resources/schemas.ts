import { z } from 'zod';
import type { Resource } from '../../generated/prisma/client.js';
import { ResourceKind } from '../../generated/prisma/enums.js';
import { displayName, isoTime, orgIdParam, pageQuery, prefixedId, timestamp } from '../../schemas/common.js';

const resourceKind = z.enum(ResourceKind).describe('What the resource is; decides its id prefix');

/** Id prefixes by kind, as in Confluent Cloud (lkc-, lsrc-, lksqlc-) and StreamNative/InfinyOn (pc-, fc-). */
export const RESOURCE_ID_PREFIX: Record<ResourceKind, string> = {
  kafka_cluster: 'lkc',
  schema_registry: 'lsrc',
  ksqldb_cluster: 'lksqlc',
  pulsar_cluster: 'pc',
  fluvio_cluster: 'fc',
  kdb_insights: 'kxi',
};

export const resourceId = z.string().regex(/^(lkc|lsrc|lksqlc|pc|fc|kxi)-[a-z0-9]{1,64}$/, 'must be a resource id (lkc-, lsrc-, lksqlc-, pc-, fc- or kxi-...)');

/** A kdb Insights topic name (Insights' rt.sequencer.topic and the clients' topics). */
export const topicName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'must be 1 to 128 characters of letters, digits, ".", "_" and "-", starting with a letter or digit');

// kdb+ connection strings as the seed writes them: `:host:port`.
const endpoint = z
  .string()
  .regex(/^:[A-Za-z0-9]([A-Za-z0-9.-]{0,252}):([1-9][0-9]{0,4})$/, 'must be a ":host:port" kdb+ endpoint such as ":10.0.0.1:5002"')
  .refine((value) => Number(value.slice(value.lastIndexOf(':') + 1)) <= 65535, 'has a port above 65535');
const endpointList = z.array(endpoint).max(64);

/** Settings of a kdb_insights deployment, as sent: every field optional (defaults fill them on create, PATCH merges). */
const kdbSettingsInput = z.strictObject({
  sequencer_topic: topicName.optional().describe('Insights\' rt.sequencer.topic; enrolment requires topics.insert to equal it (default "data")'),
  endpoints: z
    .strictObject({
      insert: z.strictObject({ insert: endpointList.optional(), query: endpointList.optional() }).optional(),
      query: endpointList.optional(),
    })
    .optional()
    .describe('kdb+ endpoints handed to enrolled clients in their details'),
  certificate_days: z.number().int().min(1).max(825).optional().describe('Validity of client certificates, 1 to 825 days (default 365)'),
});
export type KdbSettingsInput = z.infer<typeof kdbSettingsInput>;

const kdbSettingsSchema = z
  .object({
    sequencer_topic: z.string(),
    endpoints: z.object({ insert: z.object({ insert: z.array(z.string()), query: z.array(z.string()) }), query: z.array(z.string()) }),
    certificate_days: z.number().int(),
  })
  .meta({ id: 'KdbInsightsSettings' });
export type KdbSettings = z.infer<typeof kdbSettingsSchema>;

export const DEFAULT_KDB_SETTINGS: KdbSettings = {
  sequencer_topic: 'data',
  endpoints: { insert: { insert: [], query: [] }, query: [] },
  certificate_days: 365,
};

/** `patch` over `base`: objects merge key by key, anything else (lists included) replaces. */
export function mergeKdbSettings(base: KdbSettings, patch: KdbSettingsInput): KdbSettings {
  return {
    sequencer_topic: patch.sequencer_topic ?? base.sequencer_topic,
    certificate_days: patch.certificate_days ?? base.certificate_days,
    endpoints: {
      insert: {
        insert: patch.endpoints?.insert?.insert ?? base.endpoints.insert.insert,
        query: patch.endpoints?.insert?.query ?? base.endpoints.insert.query,
      },
      query: patch.endpoints?.query ?? base.endpoints.query,
    },
  };
}

/** Stored settings, read back; anything missing (an older row) takes its default. */
export function kdbSettingsOf(stored: unknown): KdbSettings {
  const parsed = kdbSettingsInput.safeParse(stored ?? {});
  return mergeKdbSettings(DEFAULT_KDB_SETTINGS, parsed.success ? parsed.data : {});
}

// Lowercase and dot-free: Flink key scopes join them as env-abc123.aws.us-east-2.
const cloud = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a lowercase cloud name such as aws, gcp or azure');
const region = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a lowercase region name such as us-east-2');

export const createResourceBody = z
  .strictObject({
    kind: resourceKind,
    display_name: displayName,
    environment_id: prefixedId('env', 'environment').describe('An environment of the same organization; cannot be changed later'),
    cloud: cloud.optional(),
    region: region.optional(),
    settings: kdbSettingsInput.optional().describe('kdb_insights only'),
  })
  .meta({ examples: [{ kind: 'kafka_cluster', display_name: 'orders', environment_id: 'env-wv4b9ny6c4', cloud: 'aws', region: 'us-east-2' }] });

const immutable = (field: string) =>
  z.unknown().optional().describe(`${field} cannot be changed; sending it is 422 immutable_field. Create a new resource instead`);

export const updateResourceBody = z
  .strictObject({
    display_name: displayName.optional(),
    cloud: cloud.nullable().optional().describe('null clears it'),
    region: region.nullable().optional().describe('null clears it'),
    settings: kdbSettingsInput.optional().describe('kdb_insights only; merged into the current settings'),
    kind: immutable('kind'),
    environment_id: immutable('environment_id'),
  })
  .meta({ examples: [{ display_name: 'orders-eu', region: 'eu-west-1' }] });

export const resourceQuery = pageQuery.extend({
  kind: resourceKind.optional(),
  environment_id: z.string().max(80).optional().describe('Only resources in this environment'),
});

export const resourceSchema = z
  .object({
    id: z.string(),
    kind: resourceKind,
    display_name: z.string(),
    environment_id: z.string(),
    cloud: z.string().nullable(),
    region: z.string().nullable(),
    settings: kdbSettingsSchema.optional().describe('kdb_insights only'),
    created_at: timestamp,
    updated_at: timestamp,
  })
  .meta({ id: 'Resource' });

export const resourceParams = orgIdParam.extend({ resource_id: z.string().min(1).max(80) });

export function presentResource(resource: Resource): z.output<typeof resourceSchema> {
  return {
    id: resource.id,
    kind: resource.kind,
    display_name: resource.displayName,
    environment_id: resource.environmentId,
    cloud: resource.cloud,
    region: resource.region,
    ...(resource.kind === 'kdb_insights' ? { settings: kdbSettingsOf(resource.settings) } : {}),
    created_at: isoTime(resource.createdAt),
    updated_at: isoTime(resource.updatedAt),
  };
}
