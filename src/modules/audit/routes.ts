import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Deps } from '../../deps.js';
import { contextOf } from '../../plugins/context.js';
import { listOf, orgIdParam } from '../../schemas/common.js';
import { auditEventSchema, auditQuery, presentAuditEvent } from './schemas.js';
import { listAuditEvents } from './service.js';

export default async function auditRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  app.withTypeProvider<ZodTypeProvider>().get('/v1/orgs/:org_id/audit-events', {
    config: { auth: 'management' },
    schema: {
      operationId: 'listAuditEvents',
      tags: ['audit'],
      summary: 'List the audit trail of an organization, oldest first',
      params: orgIdParam,
      querystring: auditQuery,
      response: { 200: listOf(auditEventSchema) },
    },
  }, async (request) => {
    const ctx = contextOf(request);
    const { page_size, page_token, since, ...filters } = request.query;
    const page = await listAuditEvents(deps, ctx, request.params.org_id, { ...filters, since: since ? new Date(since) : undefined }, { page_size, page_token });
    return { data: page.data.map(presentAuditEvent), next_page_token: page.next_page_token };
  });
}
