import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { rolesRequiringMfa } from '../../access/permissions.ts';
import { recordAuditEvent } from '../../audit/audit.service.ts';
import type { Config } from '../../config/load.ts';
import type { AppDb } from '../../db/client.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { AppError } from '../../http/errors.ts';
import { anyPrincipalOf, type Principal } from '../../http/route-access.ts';
import { login } from '../login/login.service.ts';
import { requestContextOf } from '../request-context.ts';
import { findMembershipUnscoped, findUserByIdUnscoped, listMembershipsOfUserUnscoped } from '../users.repo.ts';
import { clearSessionCookie, csrfTokenFor, setSessionCookie } from './session-cookie.ts';
import { listActiveSessionsOfUser, revokeSessionOfUser } from './session.repo.ts';
import { rotateSession, type StartedSession } from './session.service.ts';
import { queryRows } from '../../db/client.ts';
import { sql } from 'drizzle-orm';

const email = z.email({ error: 'expected an e-mail address' }).max(320);

export const sessionStateSchema = z.object({
  userId: z.uuid(),
  email: z.string(),
  organizationId: z.uuid().nullable(),
  role: z.string(),
  operator: z.boolean(),
  organizations: z.array(z.object({ organizationId: z.uuid(), name: z.string(), role: z.string() })),
  mfa: z.object({ enrolled: z.boolean(), verified: z.boolean(), required: z.boolean() }),
  /** What the person must do before anything else, if anything. */
  next: z.enum(['mfa-verification', 'mfa-enrolment']).nullable(),
  /** Send it back in the x-csrf-token header with every state-changing request. */
  csrfToken: z.string(),
});
export type SessionState = z.infer<typeof sessionStateSchema>;

export interface SessionRouteDeps {
  config: Config;
  db: AppDb;
}

/** Sets the cookie of a new (or rotated) session and describes it for the caller. */
export async function answerWithSession(db: AppDb, reply: FastifyReply, session: StartedSession): Promise<SessionState> {
  setSessionCookie(reply, session.token);
  return describeSession(db, session.sessionId, session.token);
}

export async function describeSession(db: AppDb, sessionId: string, token: string): Promise<SessionState> {
  return withUnscoped(db, async (tx) => {
    const [row] = await queryRows<{ user_id: string; organization_id: string | null; mfa_verified_at: Date | null; is_platform_operator: boolean; email: string; mfa_enrolled: boolean; grant_scope: string | null }>(
      tx,
      sql`select s.user_id, s.organization_id, s.mfa_verified_at, u.is_platform_operator, u.email,
            (exists (select 1 from totp_factors t where t.user_id = u.id and t.confirmed_at is not null)
              or exists (select 1 from webauthn_credentials w where w.user_id = u.id)) as mfa_enrolled,
            (select scope::text from support_grants g where g.organization_id = s.organization_id and g.revoked_at is null and g.expires_at > now() order by scope desc limit 1) as grant_scope
          from sessions s join users u on u.id = s.user_id where s.id = ${sessionId}`,
    );
    if (!row) throw new AppError('unauthenticated', 'Session not found');
    const memberships = await listMembershipsOfUserUnscoped(tx, row.user_id);
    const current = row.organization_id ? await findMembershipUnscoped(tx, row.user_id, row.organization_id) : undefined;
    const role = current?.role ?? (row.is_platform_operator ? (row.organization_id ? `operator (support: ${row.grant_scope ?? 'none'})` : 'operator') : 'none');
    const required = row.is_platform_operator || (current ? rolesRequiringMfa.includes(current.role) : false);
    const verified = row.mfa_verified_at !== null;
    return {
      userId: row.user_id,
      email: row.email,
      organizationId: row.organization_id,
      role,
      operator: row.is_platform_operator,
      // Before the second factor is proven, the password alone does not learn which organisations the person belongs to.
      organizations: row.mfa_enrolled && !verified ? [] : memberships.map((m) => ({ organizationId: m.organizationId, name: m.organizationName, role: m.role })),
      mfa: { enrolled: row.mfa_enrolled, verified, required },
      next: row.mfa_enrolled && !verified ? 'mfa-verification' : !row.mfa_enrolled && required ? 'mfa-enrolment' : null,
      csrfToken: csrfTokenFor(token),
    };
  });
}

function sessionOf(principal: Principal): { userId: string; sessionId: string } {
  if (!principal.userId || !principal.sessionId) throw new AppError('forbidden', 'This route needs a signed-in person, not an API key');
  return { userId: principal.userId, sessionId: principal.sessionId };
}

export function registerSessionRoutes(app: FastifyInstance, { config, db }: SessionRouteDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/v1/auth/login',
    {
      config: { public: true },
      schema: {
        summary: 'Sign in with e-mail and password; a second factor follows when enrolled',
        tags: ['auth'],
        body: z.object({ email, password: z.string().min(1).max(1024), organizationId: z.uuid().optional() }),
        response: { 200: sessionStateSchema },
      },
    },
    async (request, reply) => {
      const result = await login(db, config, request.body, requestContextOf(request));
      return answerWithSession(db, reply, result.session);
    },
  );

  r.post(
    '/api/v1/auth/logout',
    { config: { permission: 'session:self' }, schema: { summary: 'Sign out: ends this session', tags: ['auth'], response: { 204: z.null() } } },
    async (request, reply) => {
      const principal = anyPrincipalOf(request);
      const { userId, sessionId } = sessionOf(principal);
      const context = requestContextOf(request);
      await withUnscoped(db, async (tx) => {
        await revokeSessionOfUser(tx, userId, sessionId);
        await recordAuditEvent(tx, { organizationId: principal.organizationId, actorType: 'user', actorId: userId, action: 'auth.logged_out', targetType: 'session', targetId: sessionId, ip: context.ip, requestId: context.requestId });
      });
      clearSessionCookie(reply);
      return reply.code(204).send(null);
    },
  );

  r.get(
    '/api/v1/auth/me',
    { config: { permission: 'session:self' }, schema: { summary: 'Who is signed in, where, and what they must do next', tags: ['auth'], response: { 200: sessionStateSchema } } },
    async (request) => {
      const { sessionId } = sessionOf(anyPrincipalOf(request));
      return describeSession(db, sessionId, request.sessionToken!);
    },
  );

  r.post(
    '/api/v1/auth/organization',
    {
      config: { permission: 'session:manage' },
      schema: {
        summary: 'Act in another of your organisations (operators: one that granted support access); the session id changes',
        tags: ['auth'],
        body: z.object({ organizationId: z.uuid().nullable() }),
        response: { 200: sessionStateSchema },
      },
    },
    async (request, reply) => {
      const principal = anyPrincipalOf(request);
      const { userId, sessionId } = sessionOf(principal);
      const target = request.body.organizationId;
      const context = requestContextOf(request);
      const rotated = await withUnscoped(db, async (tx) => {
        const user = await findUserByIdUnscoped(tx, userId);
        const member = target ? await findMembershipUnscoped(tx, userId, target) : undefined;
        const granted =
          target && user?.isPlatformOperator
            ? (await queryRows<{ id: string }>(tx, sql`select id from support_grants where organization_id = ${target} and revoked_at is null and expires_at > now() limit 1`)).length > 0
            : false;
        const allowed = target === null ? Boolean(user?.isPlatformOperator) : Boolean(member) || granted;
        // Not a member and no grant: answered like a missing organisation.
        if (!allowed) throw new AppError('not_found', 'No such organisation');
        const next = await rotateSession(tx, config.sessions, sessionId, { organizationId: target }, context);
        await recordAuditEvent(tx, {
          organizationId: target,
          actorType: user?.isPlatformOperator && !member ? 'operator' : 'user',
          actorId: userId,
          action: granted && !member ? 'support.session.entered' : 'auth.organization.switched',
          targetType: 'session',
          targetId: next.sessionId,
          ip: context.ip,
          requestId: context.requestId,
        });
        return next;
      });
      return answerWithSession(db, reply, rotated);
    },
  );

  const sessionView = z.object({ id: z.uuid(), current: z.boolean(), organizationId: z.uuid().nullable(), createdAt: z.string(), lastSeenAt: z.string(), ip: z.string().nullable(), userAgent: z.string().nullable(), mfaVerified: z.boolean() });
  r.get(
    '/api/v1/auth/sessions',
    { config: { permission: 'session:manage' }, schema: { summary: 'Your active sessions', tags: ['auth'], response: { 200: z.object({ sessions: z.array(sessionView) }) } } },
    async (request) => {
      const { userId, sessionId } = sessionOf(anyPrincipalOf(request));
      const rows = await withUnscoped(db, (tx) => listActiveSessionsOfUser(tx, userId));
      return {
        sessions: rows.map((s) => ({
          id: s.id,
          current: s.id === sessionId,
          organizationId: s.organizationId,
          createdAt: s.createdAt.toISOString(),
          lastSeenAt: s.lastSeenAt.toISOString(),
          ip: s.ip,
          userAgent: s.userAgent,
          mfaVerified: s.mfaVerifiedAt !== null,
        })),
      };
    },
  );

  r.delete(
    '/api/v1/auth/sessions/:sessionId',
    {
      config: { permission: 'session:manage' },
      schema: { summary: 'Revoke one of your sessions', tags: ['auth'], params: z.object({ sessionId: z.uuid({ error: 'expected a session id (UUID)' }) }), response: { 204: z.null() } },
    },
    async (request, reply) => {
      const principal = anyPrincipalOf(request);
      const { userId } = sessionOf(principal);
      const context = requestContextOf(request);
      const revoked = await withUnscoped(db, async (tx) => {
        const done = await revokeSessionOfUser(tx, userId, request.params.sessionId);
        if (done) await recordAuditEvent(tx, { organizationId: principal.organizationId, actorType: 'user', actorId: userId, action: 'auth.session.revoked', targetType: 'session', targetId: request.params.sessionId, ip: context.ip, requestId: context.requestId });
        return done;
      });
      // Someone else's session answers like a missing one.
      if (!revoked) throw new AppError('not_found', 'No such session');
      return reply.code(204).send(null);
    },
  );
}
