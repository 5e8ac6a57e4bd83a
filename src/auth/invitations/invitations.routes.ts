import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authorize, mayInviteAs } from '../../access/authorize.ts';
import { invitePermissionFor, organizationRoles } from '../../access/permissions.ts';
import { recordAuditEvent } from '../../audit/audit.service.ts';
import type { Config } from '../../config/load.ts';
import type { AppDb } from '../../db/client.ts';
import type { Invitation } from '../../db/schema/index.ts';
import { withTenant, withUnscoped } from '../../db/tenancy.ts';
import { AppError } from '../../http/errors.ts';
import { principalOf } from '../../http/route-access.ts';
import { findApiKey } from '../api-keys/api-key.repo.ts';
import { auditActor } from '../audit-actor.ts';
import { requestContextOf } from '../request-context.ts';
import { answerWithSession, sessionStateSchema } from '../sessions/session.routes.ts';
import { startSession } from '../sessions/session.service.ts';
import { acceptInvitationUnscoped, createInvitation, listPendingInvitations, revokeInvitation } from './invitations.service.ts';

const invitationView = z.object({ id: z.uuid(), email: z.string(), role: z.enum(organizationRoles), expiresAt: z.string(), createdAt: z.string() });
const present = (i: Invitation) => ({ id: i.id, email: i.email, role: i.role, expiresAt: i.expiresAt.toISOString(), createdAt: i.createdAt.toISOString() });

export function registerInvitationRoutes(app: FastifyInstance, { config, db }: { config: Config; db: AppDb }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/v1/invitations',
    {
      config: { permission: 'members:invite' },
      schema: {
        summary: 'Invite someone by e-mail with a role (the link is e-mailed)',
        tags: ['members'],
        body: z.object({ email: z.email({ error: 'expected an e-mail address' }).max(320), role: z.enum(organizationRoles), locale: z.enum(['fr', 'en']).optional() }),
        response: { 201: invitationView },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      // The route needs members:invite; an administrator role also needs step-up (decided by the matrix).
      authorize(principal, invitePermissionFor(request.body.role));
      if (!mayInviteAs(principal.role, request.body.role)) throw new AppError('forbidden', `Your role (${principal.role}) may not invite someone as ${request.body.role}`, { errors: [{ field: 'body.role', message: 'above your own role' }] });
      const context = requestContextOf(request);
      const row = await withTenant(db, principal, async (tx) => {
        // An API key invites on its creator's authority: acceptance re-checks that person.
        const inviterId = principal.userId ?? (principal.apiKeyId ? ((await findApiKey(tx, principal, principal.apiKeyId))?.createdBy ?? null) : null);
        return createInvitation(tx, config, principal, request.body, { ...auditActor(principal, context), userId: inviterId });
      });
      return reply.code(201).send(present(row));
    },
  );

  r.get(
    '/api/v1/invitations',
    { config: { permission: 'members:read' }, schema: { summary: 'Pending invitations', tags: ['members'], response: { 200: z.object({ invitations: z.array(invitationView) }) } } },
    async (request) => {
      const principal = principalOf(request);
      return { invitations: (await withTenant(db, principal, (tx) => listPendingInvitations(tx, principal))).map(present) };
    },
  );

  r.delete(
    '/api/v1/invitations/:invitationId',
    { config: { permission: 'members:invite' }, schema: { summary: 'Revoke a pending invitation', tags: ['members'], params: z.object({ invitationId: z.uuid({ error: 'expected an invitation id (UUID)' }) }), response: { 204: z.null() } } },
    async (request, reply) => {
      const principal = principalOf(request);
      const context = requestContextOf(request);
      const row = await withTenant(db, principal, async (tx) => {
        const revoked = await revokeInvitation(tx, principal, request.params.invitationId);
        if (revoked) await recordAuditEvent(tx, { ...auditActor(principal, context), organizationId: principal.organizationId, action: 'invitation.revoked', targetType: 'invitation', targetId: revoked.id, details: { email: revoked.email } });
        return revoked;
      });
      if (!row) throw new AppError('not_found', 'No such pending invitation');
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/api/v1/auth/invitations/accept',
    {
      config: { public: true },
      schema: {
        summary: 'Accept an invitation: choose a password (or give your existing one); signs you in',
        tags: ['auth'],
        body: z.object({ token: z.string().min(20).max(200), password: z.string().min(1).max(1024) }),
        response: { 200: sessionStateSchema },
      },
    },
    async (request, reply) => {
      const context = requestContextOf(request);
      // A refusal that records an audit event is returned (committed), not thrown (rolled back).
      const session = await withUnscoped(db, async (tx) => {
        const accepted = await acceptInvitationUnscoped(tx, request.body, context);
        if (accepted instanceof AppError) return accepted;
        return startSession(tx, config.sessions, { userId: accepted.userId, organizationId: accepted.organizationId, mfaVerifiedAt: null }, context);
      });
      if (session instanceof AppError) throw session;
      return answerWithSession(db, reply, session);
    },
  );
}
