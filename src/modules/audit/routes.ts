import type { FastifyInstance } from 'fastify';
import type { Deps } from '../../deps.js';
import { presentPage } from '../../lib/pagination.js';
import { routesOf } from '../../lib/route.js';
import { contextOf } from '../../plugins/context.js';
import { listOf, orgIdParam } from '../../schemas/common.js';
import { auditEventSchema, auditQuery, presentAuditEvent } from './schemas.js';
import { listAuditEvents } from './service.js';

export default async function auditRoutes(app: FastifyInstance, { deps }: { deps: Deps }) {
  const route = routesOf(app, { tags: ['audit'] });
  route({
    method: 'GET',
    url: '/v1/orgs/:org_id/audit-events',
    operationId: 'listAuditEvents',
    summary: 'List the audit trail of an organization, oldest first',
    auth: 'audit.read',
    params: orgIdParam,
    querystring: auditQuery,
    response: { 200: listOf(auditEventSchema) },
    handler: async (request) => {
      const ctx = contextOf(request);
      const { page_size, page_token, since, ...filters } = request.query;
      const page = await listAuditEvents(
        deps,
        ctx,
        request.params.org_id,
        { ...filters, since: since ? new Date(since) : undefined },
        { page_size, page_token },
      );
      return presentPage(page, presentAuditEvent);
    },
  });
}
