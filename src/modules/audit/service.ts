import type { Actor, RequestContext } from '../../auth/actor.js';
import { actorId } from '../../auth/actor.js';
import { authorize } from '../../auth/policy.js';
import type { Deps } from '../../deps.js';
import { notFound } from '../../errors.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { invalidPageToken, type PageRequest } from '../../lib/pagination.js';
import type { Tx } from '../../store/index.js';

export interface AuditRecord {
  orgId: string | null;
  /** `<object>.<verb>`, e.g. `service_account.create`. */
  action: string;
  target?: string | null;
  /** Non-secret facts about the change. Never a secret or a hash. */
  details?: Prisma.InputJsonValue;
}

/** Writes an audit event inside the caller's transaction, so the event and the change commit together. */
export async function recordAudit(tx: Tx, ctx: RequestContext, record: AuditRecord): Promise<void> {
  await tx.auditEvent.create({
    data: {
      orgId: record.orgId,
      action: record.action,
      actor: actorId(ctx.actor),
      target: record.target ?? null,
      requestId: ctx.requestId,
      sourceIp: ctx.sourceIp,
      details: record.details ?? {},
    },
  });
}

export interface AuditFilters {
  action?: string | undefined;
  actor?: string | undefined;
  target?: string | undefined;
  since?: Date | undefined;
}

/** Newest first is what people reading an audit trail want, but ids ascend: pages go forward in time. */
export async function listAuditEvents(deps: Deps, ctx: RequestContext, orgId: string, filters: AuditFilters, page: PageRequest) {
  await requireAuditedOrg(deps, ctx.actor, orgId);
  authorize(ctx.actor, 'audit.read', { orgId });
  const after = page.page_token ? decodeAuditToken(page.page_token) : undefined;
  const rows = await deps.db.auditEvent.findMany({
    where: {
      orgId,
      ...(filters.action ? { action: filters.action } : {}),
      ...(filters.actor ? { actor: filters.actor } : {}),
      ...(filters.target ? { target: filters.target } : {}),
      ...(filters.since ? { time: { gte: filters.since } } : {}),
      ...(after !== undefined ? { id: { gt: after } } : {}),
    },
    orderBy: { id: 'asc' },
    take: page.page_size + 1,
  });
  const data = rows.slice(0, page.page_size);
  const last = data.at(-1);
  return {
    data,
    next_page_token: rows.length > page.page_size && last ? Buffer.from(last.id.toString()).toString('base64url') : null,
  };
}

const MAX_BIGINT = 9223372036854775807n;
/**
 * The organization must exist, except for root: a deleted organization's trail outlives it (audit
 * events have no foreign key), and root may still read it. An id that never had events is 404.
 */
async function requireAuditedOrg(deps: Deps, actor: Actor, orgId: string): Promise<void> {
  if (await deps.db.organization.findUnique({ where: { id: orgId }, select: { id: true } })) return;
  if (actor.kind === 'root' && (await deps.db.auditEvent.findFirst({ where: { orgId }, select: { id: true } }))) return;
  throw notFound('organization', orgId);
}

function decodeAuditToken(token: string): bigint {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!/^\d{1,19}$/.test(text)) throw invalidPageToken();
  const id = BigInt(text);
  // The id column is a Postgres bigint: a larger cursor is no id this service issued.
  if (id > MAX_BIGINT) throw invalidPageToken();
  return id;
}
