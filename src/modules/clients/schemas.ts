import { z } from 'zod';
import type { ClientEnrollment } from '../../generated/prisma/client.js';
import { isoTime, orgIdParam, pageQuery, timestamp } from '../../schemas/common.js';
import { topicName } from '../resources/schemas.js';

/** A kdb Insights client name, as the client controller accepts it. */
const clientName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'must be 1 to 64 characters of letters, digits, ".", "_" and "-", starting with a letter or digit');

// PEM is printable ASCII in lines; anything else (NUL included) is refused before parsing.
const pem = z
  .string()
  .max(16_384)
  .regex(/^[\x20-\x7E\r\n\t]+$/, 'must be PEM text (printable ASCII)');

export const enrolBody = z
  .strictObject({
    name: clientName.describe('Unique per deployment; becomes the certificate subject CN'),
    topics: z.strictObject({
      insert: topicName.describe("Must equal the deployment's settings.sequencer_topic"),
      query: topicName,
    }),
    csr: pem.optional().describe('A PEM PKCS#10 request: its key is certified and no private key is generated or kept'),
  })
  .meta({ examples: [{ name: 'my-client', topics: { insert: 'data', query: 'requests' } }] });

export const leaveBody = z.strictObject({ name: clientName }).meta({ examples: [{ name: 'my-client' }] });

export const deploymentQuery = z.object({
  resource_id: z
    .string()
    .regex(/^kxi-[a-z0-9]{1,64}$/, 'must be a kdb_insights deployment id (kxi-...)')
    .optional()
    .describe("The deployment; default: the caller's organization's only kdb_insights resource"),
  force: z.enum(['true', 'false']).optional().describe('true: re-enrol an enrolled name (its old certificate is revoked, a new client id issued)'),
});

export const enrolledSchema = z
  .object({
    message: z.literal('success'),
    detail: z.literal('Client enrolled'),
    url: z.string().describe('The client id (32 hex): the credential for the details route'),
  })
  .meta({ id: 'InsightsEnrolled' });

export const removedSchema = z.object({ message: z.literal('success'), detail: z.literal('Client removed') }).meta({ id: 'InsightsRemoved' });

export const failureSchema = z.object({ message: z.literal('failure'), detail: z.string() }).meta({ id: 'InsightsFailure' });

export const clientDetailsSchema = z
  .object({
    name: z.string(),
    topics: z.object({ insert: z.string(), query: z.string() }),
    ca: z.string().describe('PEM: the deployment CA'),
    cert: z.string().describe("PEM: the client's certificate"),
    key: z.string().nullable().describe("PEM PKCS#8: the client's private key; null when it enrolled with a CSR"),
    insert: z.object({ insert: z.array(z.string()), query: z.array(z.string()) }),
    query: z.array(z.string()),
  })
  .meta({ id: 'InsightsClientDetails' });

export const clientIdParam = z.object({ client_id: z.string().max(256) });

export const deploymentParams = orgIdParam.extend({ resource_id: z.string().min(1).max(80) });
export const clientParams = deploymentParams.extend({ name: z.string().min(1).max(64) });
export const clientListQuery = pageQuery;

export const clientSchema = z
  .object({
    name: z.string(),
    topics: z.object({ insert: z.string(), query: z.string() }),
    serial: z.string().describe('Certificate serial number, lowercase hex'),
    not_after: timestamp,
    created_at: timestamp,
  })
  .meta({ id: 'KdbInsightsClient' });

export function presentClient(enrollment: ClientEnrollment): z.output<typeof clientSchema> {
  return {
    name: enrollment.name,
    topics: { insert: enrollment.insertTopic, query: enrollment.queryTopic },
    serial: enrollment.serial,
    not_after: isoTime(enrollment.notAfter),
    created_at: isoTime(enrollment.createdAt),
  };
}

const dnsName = z
  .string()
  .max(253)
  .regex(/^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/, 'must be a DNS name such as kx.example.com');

export const serverCertificateBody = z
  .strictObject({
    dns_names: z.array(dnsName).max(100).default([]),
    ip_addresses: z
      .array(z.union([z.ipv4(), z.ipv6()]))
      .max(100)
      .default([]),
    days: z.number().int().min(1).max(825).optional().describe("Validity in days; default the deployment's certificate_days"),
  })
  .meta({ examples: [{ dns_names: ['insights.example.com'], ip_addresses: ['192.0.2.10'], days: 365 }] });

export const serverCertificateSchema = z
  .object({ cert: z.string(), key: z.string().describe('PEM PKCS#8; shown in this response only, not stored'), ca: z.string() })
  .meta({ id: 'ServerCertificate' });
