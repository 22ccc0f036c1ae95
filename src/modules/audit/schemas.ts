import { z } from 'zod';
import type { AuditEvent } from '../../generated/prisma/client.js';
import { isoTime, pageQuery, timestamp } from '../../schemas/common.js';

export const auditQuery = pageQuery.extend({
  action: z.string().max(128).optional().describe('e.g. service_account.create'),
  actor: z.string().max(128).optional().describe('principal id, or root'),
  target: z.string().max(128).optional().describe('id of the object acted on'),
  since: timestamp.optional().describe('only events at or after this time'),
});

export const auditEventSchema = z
  .object({
    id: z.string(),
    time: timestamp,
    action: z.string(),
    actor: z.string(),
    target: z.string().nullable(),
    request_id: z.string().nullable(),
    source_ip: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEvent' });

export function presentAuditEvent(event: AuditEvent): z.output<typeof auditEventSchema> {
  return {
    id: event.id.toString(),
    time: isoTime(event.time),
    action: event.action,
    actor: event.actor,
    target: event.target,
    request_id: event.requestId,
    source_ip: event.sourceIp,
    details: (event.details ?? {}) as Record<string, unknown>,
  };
}
