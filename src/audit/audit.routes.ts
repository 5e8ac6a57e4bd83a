import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDb } from '../db/client.ts';
import { withTenant, withUnscoped } from '../db/tenancy.ts';
import { AppError } from '../http/errors.ts';
import { principalOf } from '../http/route-access.ts';
import { auditActorOf } from './actor.ts';
import { countAuditEvents, listAuditEvents, listPlatformAuditEventsUnscoped, type AuditEventFilters } from './audit.repo.ts';
import { recordAuditEvent } from './audit.service.ts';
import { auditEventsToCsv, auditEventsToJsonLines, toAuditEventView } from './export.ts';

/** An export is built in memory: beyond this, the caller narrows the period. */
export const EXPORT_MAX_EVENTS = 50_000;
const EXPORT_PAGE_SIZE = 1_000;

const filterQuery = {
  action: z.string().min(1).max(200).optional().describe("Exact action, e.g. 'auth.login.failed'"),
  actorId: z.string().min(1).max(200).optional(),
  from: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time' }).optional().describe('Events at or after this instant'),
  to: z.iso.datetime({ offset: true, error: 'expected an ISO 8601 date-time' }).optional().describe('Events at or before this instant'),
};

const listQuery = z.object({
  ...filterQuery,
  limit: z.coerce.number({ error: 'expected a number' }).int('expected a whole number').min(1, 'expected at least 1').max(500, 'expected at most 500').default(50),
  cursor: z.string().regex(/^[1-9][0-9]{0,15}$/, 'expected the nextCursor of a previous page').optional(),
});

const exportQuery = z.object({
  format: z.enum(['jsonl', 'csv'], { error: 'expected jsonl or csv' }),
  ...filterQuery,
});

const eventView = z.object({
  id: z.uuid(),
  organizationId: z.uuid().nullable(),
  sequence: z.number().int(),
  occurredAt: z.string(),
  actorType: z.string(),
  actorId: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  outcome: z.string(),
  ip: z.string().nullable(),
  requestId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});

const pageView = z.object({ events: z.array(eventView), nextCursor: z.string().nullable() });

type ListQuery = z.infer<typeof listQuery>;

function toFilters(query: Omit<ListQuery, 'limit'> & { limit?: number }): AuditEventFilters {
  const from = query.from ? new Date(query.from) : undefined;
  const to = query.to ? new Date(query.to) : undefined;
  if (from && to && from > to) throw new AppError('validation_failed', 'from is after to', { errors: [{ field: 'query.from', message: 'must not be after to' }] });
  return {
    limit: query.limit ?? EXPORT_PAGE_SIZE,
    ...(query.action ? { action: query.action } : {}),
    ...(query.actorId ? { actorId: query.actorId } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(query.cursor ? { cursor: query.cursor } : {}),
  };
}

export function registerAuditRoutes(app: FastifyInstance, db: AppDb): void {
  const routes = app.withTypeProvider<ZodTypeProvider>();

  routes.get(
    '/api/v1/audit-events',
    {
      config: { permission: 'audit:read' },
      schema: {
        summary: "The caller's organisation's audit events, newest first, filtered and paginated",
        tags: ['audit'],
        querystring: listQuery,
        response: { 200: pageView },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const page = await withTenant(db, principal, (tx) => listAuditEvents(tx, principal, toFilters(request.query)));
      return { events: page.events.map(toAuditEventView), nextCursor: page.nextCursor };
    },
  );

  routes.get(
    '/api/v1/audit-events/export',
    {
      config: { permission: 'audit:export' },
      schema: {
        summary: "Exports the caller's organisation's audit events (oldest first) as JSON Lines or CSV; the export is itself audited",
        tags: ['audit'],
        querystring: exportQuery,
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { format, ...filterValues } = request.query;
      const filters = toFilters(filterValues);
      const events = await withTenant(db, principal, async (tx) => {
        const total = await countAuditEvents(tx, principal.organizationId, filters);
        if (total > EXPORT_MAX_EVENTS) {
          throw new AppError('validation_failed', `${total} events match; an export holds at most ${EXPORT_MAX_EVENTS}: narrow the period`, {
            errors: [{ field: 'query.from', message: `narrow the period to at most ${EXPORT_MAX_EVENTS} events` }],
          });
        }
        const rows = [];
        let cursor: string | undefined;
        do {
          const page = await listAuditEvents(tx, principal, { ...filters, limit: EXPORT_PAGE_SIZE, ...(cursor ? { cursor } : {}) });
          rows.push(...page.events);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        // Who took a copy of the log, and of what, is itself in the log (same transaction).
        await recordAuditEvent(tx, {
          organizationId: principal.organizationId,
          ...auditActorOf(principal),
          action: 'audit.exported',
          ip: request.ip,
          requestId: request.id,
          details: { format, eventCount: rows.length, filters: filterValues },
        });
        return rows.reverse().map(toAuditEventView);
      });
      const stamp = new Date().toISOString().replaceAll(':', '').replace(/\.\d+Z$/, 'Z');
      reply.header('content-disposition', `attachment; filename="audit-events-${stamp}.${format}"`);
      reply.header('cache-control', 'no-store');
      if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(auditEventsToCsv(events));
      return reply.type('application/jsonl; charset=utf-8').send(auditEventsToJsonLines(events));
    },
  );

  routes.get(
    '/api/v1/platform/audit-events',
    {
      config: { permission: 'platform-audit:read' },
      schema: {
        summary: 'The platform audit events (operators, bootstrap, system), newest first',
        tags: ['audit', 'platform'],
        querystring: listQuery,
        response: { 200: pageView },
      },
    },
    async (request) => {
      const page = await withUnscoped(db, (tx) => listPlatformAuditEventsUnscoped(tx, toFilters(request.query)));
      return { events: page.events.map(toAuditEventView), nextCursor: page.nextCursor };
    },
  );
}
