import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAuditEvent } from '../../audit/audit.service.ts';
import type { AppDb } from '../../db/client.ts';
import { supportGrants, type SupportGrant } from '../../db/schema/index.ts';
import { withTenant } from '../../db/tenancy.ts';
import { AppError } from '../../http/errors.ts';
import { principalOf } from '../../http/route-access.ts';
import { auditActor } from '../audit-actor.ts';
import { requestContextOf } from '../request-context.ts';

export const MAX_SUPPORT_GRANT_MS = 7 * 24 * 60 * 60_000;

const grantView = z.object({ id: z.uuid(), scope: z.enum(['read', 'write']), reason: z.string(), expiresAt: z.string(), revokedAt: z.string().nullable(), createdAt: z.string(), active: z.boolean() });
const present = (g: SupportGrant) => ({
  id: g.id,
  scope: g.scope,
  reason: g.reason,
  expiresAt: g.expiresAt.toISOString(),
  revokedAt: g.revokedAt?.toISOString() ?? null,
  createdAt: g.createdAt.toISOString(),
  active: g.revokedAt === null && g.expiresAt > new Date(),
});

/**
 * Support access: an owner lets platform operators into the organisation for a while, with a scope
 * (read: as an analyst; write: as an editor) and a reason. It ends by itself at expiry.
 */
export function registerSupportRoutes(app: FastifyInstance, { db }: { db: AppDb }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/v1/support-grants',
    { config: { permission: 'support-grants:read' }, schema: { summary: 'Support access granted to platform operators, past and present', tags: ['support'], response: { 200: z.object({ grants: z.array(grantView) }) } } },
    async (request) => {
      const principal = principalOf(request);
      const rows = await withTenant(db, principal, (tx) => tx.select().from(supportGrants).where(eq(supportGrants.organizationId, principal.organizationId)).orderBy(desc(supportGrants.createdAt)));
      return { grants: rows.map(present) };
    },
  );

  r.post(
    '/api/v1/support-grants',
    {
      config: { permission: 'support-grants:manage' },
      schema: {
        summary: 'Grant platform operators time-limited support access (needs a recent second factor)',
        tags: ['support'],
        body: z.object({ scope: z.enum(['read', 'write']), reason: z.string().trim().min(3).max(500), expiresAt: z.iso.datetime({ offset: true }) }),
        response: { 201: grantView },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const expiresAt = new Date(request.body.expiresAt);
      const remainingMs = expiresAt.getTime() - Date.now();
      if (remainingMs <= 0 || remainingMs > MAX_SUPPORT_GRANT_MS) {
        throw new AppError('validation_failed', 'The expiry must be in the future and within 7 days', { errors: [{ field: 'body.expiresAt', message: 'in the future, at most 7 days ahead' }] });
      }
      const context = requestContextOf(request);
      const row = await withTenant(db, principal, async (tx) => {
        const [grant] = await tx.insert(supportGrants).values({ organizationId: principal.organizationId, scope: request.body.scope, reason: request.body.reason, grantedBy: principal.userId ?? null, expiresAt }).returning();
        await recordAuditEvent(tx, { ...auditActor(principal, context), organizationId: principal.organizationId, action: 'support_grant.created', targetType: 'support_grant', targetId: grant!.id, details: { scope: grant!.scope, reason: grant!.reason, expiresAt: request.body.expiresAt } });
        return grant!;
      });
      return reply.code(201).send(present(row));
    },
  );

  r.delete(
    '/api/v1/support-grants/:grantId',
    { config: { permission: 'support-grants:revoke' }, schema: { summary: 'End support access now', tags: ['support'], params: z.object({ grantId: z.uuid({ error: 'expected a grant id (UUID)' }) }), response: { 204: z.null() } } },
    async (request, reply) => {
      const principal = principalOf(request);
      const context = requestContextOf(request);
      const row = await withTenant(db, principal, async (tx) => {
        const [grant] = await tx
          .update(supportGrants)
          .set({ revokedAt: sql`now()` })
          .where(and(eq(supportGrants.organizationId, principal.organizationId), eq(supportGrants.id, request.params.grantId), isNull(supportGrants.revokedAt)))
          .returning();
        if (grant) await recordAuditEvent(tx, { ...auditActor(principal, context), organizationId: principal.organizationId, action: 'support_grant.revoked', targetType: 'support_grant', targetId: grant.id });
        return grant;
      });
      if (!row) throw new AppError('not_found', 'No such active grant');
      return reply.code(204).send(null);
    },
  );

  // Every request an operator makes under a grant lands in the organisation's audit log twice:
  // `support.access.started` is committed before the handler runs (preHandler), so a change made
  // by the handler's own transaction is never without a record even if the process stops right
  // after it; `support.accessed` records the outcome before the answer leaves (onSend), refused
  // attempts included (those never reach preHandler). Handlers' transactions belong to each
  // feature (knowledge, providers...), so the record cannot join them from here.
  app.addHook('preHandler', async (request) => {
    const principal = request.principal;
    if (!principal?.supportGrantId || !principal.organizationId) return;
    const context = requestContextOf(request);
    await withTenant(db, { organizationId: principal.organizationId }, (tx) =>
      recordAuditEvent(tx, {
        ...auditActor(principal, context),
        organizationId: principal.organizationId,
        action: 'support.access.started',
        targetType: 'route',
        targetId: `${request.method} ${request.routeOptions.url ?? request.url}`,
        details: { supportGrantId: principal.supportGrantId },
      }),
    );
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const principal = request.principal;
    if (!principal?.supportGrantId || !principal.organizationId) return payload;
    const context = requestContextOf(request);
    await withTenant(db, { organizationId: principal.organizationId }, (tx) =>
      recordAuditEvent(tx, {
        ...auditActor(principal, context),
        organizationId: principal.organizationId,
        action: 'support.accessed',
        targetType: 'route',
        targetId: `${request.method} ${request.routeOptions.url ?? request.url}`,
        outcome: reply.statusCode < 400 ? 'success' : 'failure',
        details: { supportGrantId: principal.supportGrantId, status: reply.statusCode },
      }),
    );
    return payload;
  });
}
