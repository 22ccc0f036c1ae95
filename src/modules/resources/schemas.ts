import { z } from 'zod';
import type { Resource } from '../../generated/prisma/client.js';
import { ResourceKind } from '../../generated/prisma/enums.js';
import { displayName, isoTime, orgIdParam, pageQuery, prefixedId, timestamp } from '../../schemas/common.js';

export const resourceKind = z.enum(ResourceKind).describe('What the resource is; decides its id prefix');

/** Id prefixes by kind, as in Confluent Cloud (lkc-, lsrc-, lksqlc-) and StreamNative/InfinyOn (pc-, fc-). */
export const RESOURCE_ID_PREFIX: Record<ResourceKind, string> = {
  kafka_cluster: 'lkc',
  schema_registry: 'lsrc',
  ksqldb_cluster: 'lksqlc',
  pulsar_cluster: 'pc',
  fluvio_cluster: 'fc',
};

export const resourceId = z
  .string()
  .regex(/^(lkc|lsrc|lksqlc|pc|fc)-[a-z0-9]{1,64}$/, 'must be a resource id (lkc-, lsrc-, lksqlc-, pc- or fc-...)');

// Lowercase and dot-free: Flink key scopes join them as env-abc123.aws.us-east-2.
const cloud = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a lowercase cloud name such as aws, gcp or azure');
const region = z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'must be a lowercase region name such as us-east-2');

export const createResourceBody = z.strictObject({
  kind: resourceKind,
  display_name: displayName,
  environment_id: prefixedId('env', 'environment').describe('An environment of the same organization; cannot be changed later'),
  cloud: cloud.optional(),
  region: region.optional(),
}).meta({ examples: [{ kind: 'kafka_cluster', display_name: 'orders', environment_id: 'env-wv4b9ny6c4', cloud: 'aws', region: 'us-east-2' }] });

const immutable = (field: string) =>
  z.unknown().optional().describe(`${field} cannot be changed; sending it is 422 immutable_field. Create a new resource instead`);

export const updateResourceBody = z.strictObject({
  display_name: displayName.optional(),
  cloud: cloud.nullable().optional().describe('null clears it'),
  region: region.nullable().optional().describe('null clears it'),
  kind: immutable('kind'),
  environment_id: immutable('environment_id'),
}).meta({ examples: [{ display_name: 'orders-eu', region: 'eu-west-1' }] });

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
    created_at: isoTime(resource.createdAt),
    updated_at: isoTime(resource.updatedAt),
  };
}
