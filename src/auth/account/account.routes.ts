import { and, count, eq, isNotNull } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAuditEvent } from '../../audit/audit.service.ts';
import type { Config } from '../../config/load.ts';
import type { AppDb, AppTx } from '../../db/client.ts';
import { totpFactors, users, webauthnCredentials } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { AppError } from '../../http/errors.ts';
import { anyPrincipalOf, type Principal } from '../../http/route-access.ts';
import { rolesRequiringMfa } from '../../access/permissions.ts';
import { auditActor } from '../audit-actor.ts';
import { ACCOUNT_POLICY, IP_POLICY, accountKey, clearFailures, ipKey, releaseAttempt, reserveAttempt, throttledError } from '../login/throttle.ts';
import { issueRecoveryCodes } from '../mfa/recovery-codes.ts';
import { removeTotp } from '../mfa/totp.service.ts';
import { hashPassword, verifyPassword } from '../passwords/password-hash.ts';
import { passwordProblem } from '../passwords/password-policy.ts';
import { requestContextOf } from '../request-context.ts';
import { answerWithSession, sessionStateSchema } from '../sessions/session.routes.ts';
import { revokeAllSessionsOfUser } from '../sessions/session.repo.ts';
import { startSession } from '../sessions/session.service.ts';
import { findUserByIdUnscoped } from '../users.repo.ts';

function sessionCaller(request: FastifyRequest): Principal & { userId: string; sessionId: string } {
  const principal = anyPrincipalOf(request);
  if (!principal.userId || !principal.sessionId) throw new AppError('forbidden', 'This route needs a signed-in person, not an API key');
  return principal as Principal & { userId: string; sessionId: string };
}

async function factorCount(tx: AppTx, userId: string): Promise<number> {
  const [totp] = await tx.select({ n: count() }).from(totpFactors).where(and(eq(totpFactors.userId, userId), isNotNull(totpFactors.confirmedAt)));
  const [keys] = await tx.select({ n: count() }).from(webauthnCredentials).where(eq(webauthnCredentials.userId, userId));
  return (totp?.n ?? 0) + (keys?.n ?? 0);
}

/** One's own account: password change, new recovery codes, removing a factor. */
export function registerAccountRoutes(app: FastifyInstance, { config, db }: { config: Config; db: AppDb }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/v1/auth/password',
    {
      config: { permission: 'account:password' },
      schema: {
        summary: 'Change your password; every other session ends and this one gets a new id',
        tags: ['auth'],
        body: z.object({ currentPassword: z.string().min(1).max(1024), newPassword: z.string().min(1).max(1024) }),
        response: { 200: sessionStateSchema },
      },
    },
    async (request, reply) => {
      const caller = sessionCaller(request);
      const context = requestContextOf(request);
      const outcome = await withUnscoped(db, async (tx) => {
        const user = await findUserByIdUnscoped(tx, caller.userId);
        if (!user) throw new AppError('unauthenticated', 'Sign in again');
        // The current password is checked like a sign-in: counted (atomically, first) against the same account and IP locks.
        const keys = [accountKey(user.email), ipKey(context.ip)] as const;
        const locked = await reserveAttempt(tx, [
          { key: keys[0], policy: ACCOUNT_POLICY },
          { key: keys[1], policy: IP_POLICY },
        ]);
        if (locked) {
          await recordAuditEvent(tx, { ...auditActor(caller, context), organizationId: null, action: 'auth.password.changed', outcome: 'failure', targetType: 'user', targetId: caller.userId, details: { reason: 'throttled' } });
          return throttledError(locked, 'Too many wrong passwords: wait before trying again');
        }
        const check = user.passwordHash ? await verifyPassword(user.passwordHash, request.body.currentPassword) : { ok: false };
        if (!check.ok) {
          await recordAuditEvent(tx, { ...auditActor(caller, context), organizationId: null, action: 'auth.password.changed', outcome: 'failure', targetType: 'user', targetId: caller.userId, details: { reason: 'wrong_current_password' } });
          return new AppError('unauthenticated', 'The current password is incorrect', { errors: [{ field: 'body.currentPassword', message: 'incorrect' }] });
        }
        await clearFailures(tx, keys[0]);
        await releaseAttempt(tx, keys[1], IP_POLICY);
        const problem = passwordProblem(request.body.newPassword, user.email);
        if (problem) throw new AppError('validation_failed', `The new password ${problem}`, { errors: [{ field: 'body.newPassword', message: problem }] });
        await tx.update(users).set({ passwordHash: await hashPassword(request.body.newPassword) }).where(eq(users.id, user.id));
        const sessionsRevoked = await revokeAllSessionsOfUser(tx, user.id);
        const session = await startSession(tx, config.sessions, { userId: user.id, organizationId: caller.organizationId, mfaVerifiedAt: caller.mfa?.verifiedAt ?? null }, context);
        await recordAuditEvent(tx, { ...auditActor(caller, context), organizationId: null, action: 'auth.password.changed', targetType: 'user', targetId: user.id, details: { sessionsRevoked } });
        return session;
      });
      if (outcome instanceof AppError) throw outcome;
      return answerWithSession(db, reply, outcome);
    },
  );

  r.post(
    '/api/v1/auth/mfa/recovery-codes',
    {
      config: { permission: 'mfa:manage' },
      schema: { summary: 'Replace your recovery codes with ten new ones (shown once; needs a recent second factor)', tags: ['mfa'], response: { 200: z.object({ recoveryCodes: z.array(z.string()) }) } },
    },
    async (request) => {
      const caller = sessionCaller(request);
      const context = requestContextOf(request);
      return withUnscoped(db, async (tx) => {
        if ((await factorCount(tx, caller.userId)) === 0) throw new AppError('conflict', 'Enrol a second factor first');
        const recoveryCodes = await issueRecoveryCodes(tx, caller.userId);
        await recordAuditEvent(tx, { ...auditActor(caller, context), organizationId: null, action: 'mfa.recovery_codes.regenerated', targetType: 'user', targetId: caller.userId });
        return { recoveryCodes };
      });
    },
  );

  const removeFactor = async (request: FastifyRequest, what: 'totp' | { passkeyId: string }) => {
    const caller = sessionCaller(request);
    const context = requestContextOf(request);
    await withUnscoped(db, async (tx) => {
      const removed =
        what === 'totp'
          ? await removeTotp(tx, caller.userId)
          : (await tx.delete(webauthnCredentials).where(and(eq(webauthnCredentials.userId, caller.userId), eq(webauthnCredentials.id, what.passkeyId))).returning()).length > 0;
      if (!removed) throw new AppError('not_found', 'No such factor');
      // Roles that require a second factor keep at least one (the transaction rolls back otherwise).
      const mustKeepOne = caller.operator === true || rolesRequiringMfa.includes(caller.role);
      if (mustKeepOne && (await factorCount(tx, caller.userId)) === 0) throw new AppError('conflict', 'Your role requires a second factor: enrol another before removing this one');
      await recordAuditEvent(tx, { ...auditActor(caller, context), organizationId: null, action: what === 'totp' ? 'mfa.totp.removed' : 'mfa.passkey.removed', targetType: 'user', targetId: caller.userId });
    });
  };

  r.delete(
    '/api/v1/auth/mfa/totp',
    { config: { permission: 'mfa:manage' }, schema: { summary: 'Remove your TOTP factor (needs a recent second factor)', tags: ['mfa'], response: { 204: z.null() } } },
    async (request, reply) => {
      await removeFactor(request, 'totp');
      return reply.code(204).send(null);
    },
  );

  r.delete(
    '/api/v1/auth/mfa/passkeys/:passkeyId',
    {
      config: { permission: 'mfa:manage' },
      schema: { summary: 'Remove one of your passkeys (needs a recent second factor)', tags: ['mfa'], params: z.object({ passkeyId: z.uuid({ error: 'expected a passkey id (UUID)' }) }), response: { 204: z.null() } },
    },
    async (request, reply) => {
      await removeFactor(request, { passkeyId: request.params.passkeyId });
      return reply.code(204).send(null);
    },
  );
}
