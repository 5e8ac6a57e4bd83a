import { and, asc, eq, isNull, ne, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAuditEvent } from '../../audit/audit.service.ts';
import type { Config } from '../../config/load.ts';
import type { AppDb } from '../../db/client.ts';
import { organizations, users } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { AppError } from '../../http/errors.ts';
import { anyPrincipalOf } from '../../http/route-access.ts';
import { revokeApiKeysCreatedBy } from '../api-keys/api-key.repo.ts';
import { auditActor } from '../audit-actor.ts';
import { createInvitation, revokePendingInvitationsBy } from '../invitations/invitations.service.ts';
import { requestContextOf } from '../request-context.ts';
import { revokeAllSessionsOfUser } from '../sessions/session.repo.ts';

const organizationView = z.object({ id: z.uuid(), name: z.string(), slug: z.string(), createdAt: z.string() });

/** What platform operators do: create client organisations (inviting each first owner), cut people off. */
export function registerPlatformRoutes(app: FastifyInstance, { config, db }: { config: Config; db: AppDb }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/v1/platform/organizations',
    {
      config: { permission: 'organizations:create' },
      schema: {
        summary: 'Create a client organisation and invite its first owner',
        tags: ['platform'],
        body: z.object({
          name: z.string().trim().min(1).max(200),
          slug: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/, 'expected lower-case letters, digits and dashes'),
          ownerEmail: z.email({ error: 'expected an e-mail address' }).max(320),
          ownerLocale: z.enum(['fr', 'en']).optional(),
        }),
        response: { 201: organizationView.extend({ invitationId: z.uuid() }) },
      },
    },
    async (request, reply) => {
      const principal = anyPrincipalOf(request);
      const context = requestContextOf(request);
      const body = request.body;
      const created = await withUnscoped(db, async (tx) => {
        const [taken] = await tx.select({ id: organizations.id }).from(organizations).where(eq(organizations.slug, body.slug));
        if (taken) throw new AppError('conflict', 'This slug is taken', { errors: [{ field: 'body.slug', message: 'already used' }] });
        const [organization] = await tx.insert(organizations).values({ name: body.name, slug: body.slug }).returning();
        const actor = auditActor(principal, context);
        await recordAuditEvent(tx, { ...actor, organizationId: null, action: 'organization.created', targetType: 'organization', targetId: organization!.id, details: { name: body.name, slug: body.slug } });
        const invitation = await createInvitation(tx, config, { organizationId: organization!.id }, { email: body.ownerEmail, role: 'owner', ...(body.ownerLocale ? { locale: body.ownerLocale } : {}) }, { ...actor, userId: principal.userId ?? null });
        return { organization: organization!, invitationId: invitation.id };
      });
      const o = created.organization;
      return reply.code(201).send({ id: o.id, name: o.name, slug: o.slug, createdAt: o.createdAt.toISOString(), invitationId: created.invitationId });
    },
  );

  r.get(
    '/api/v1/platform/organizations',
    { config: { permission: 'organizations:read' }, schema: { summary: 'Client organisations (names only: no client content)', tags: ['platform'], response: { 200: z.object({ organizations: z.array(organizationView) }) } } },
    async () => {
      const rows = await withUnscoped(db, (tx) => tx.select().from(organizations).orderBy(asc(organizations.createdAt)));
      return { organizations: rows.map((o) => ({ id: o.id, name: o.name, slug: o.slug, createdAt: o.createdAt.toISOString() })) };
    },
  );

  r.post(
    '/api/v1/platform/users/:userId/deactivate',
    {
      config: { permission: 'users:deactivate' },
      schema: { summary: 'Deactivate a person everywhere: every session and API key of theirs fails on the next request', tags: ['platform'], params: z.object({ userId: z.uuid({ error: 'expected a user id (UUID)' }) }), response: { 204: z.null() } },
    },
    async (request, reply) => {
      const principal = anyPrincipalOf(request);
      const context = requestContextOf(request);
      if (request.params.userId === principal.userId) throw new AppError('conflict', 'You cannot deactivate yourself');
      await withUnscoped(db, async (tx) => {
        const [user] = await tx
          .update(users)
          .set({ status: 'deactivated', deactivatedAt: sql`now()`, updatedAt: sql`now()` })
          .where(and(eq(users.id, request.params.userId), ne(users.status, 'deactivated'), isNull(users.deactivatedAt)))
          .returning();
        if (!user) {
          const [exists] = await tx.select({ id: users.id }).from(users).where(eq(users.id, request.params.userId));
          if (!exists) throw new AppError('not_found', 'No such user');
          return;
        }
        const sessions = await revokeAllSessionsOfUser(tx, user.id);
        const keys = await revokeApiKeysCreatedBy(tx, user.id);
        const invitationsRevoked = await revokePendingInvitationsBy(tx, user.id);
        await recordAuditEvent(tx, { ...auditActor(principal, context), organizationId: null, action: 'user.deactivated', targetType: 'user', targetId: user.id, details: { sessionsRevoked: sessions, apiKeysRevoked: keys, invitationsRevoked } });
      });
      return reply.code(204).send(null);
    },
  );
}
