import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAuditEvent } from '../../audit/audit.service.ts';
import type { Config } from '../../config/load.ts';
import type { AppDb } from '../../db/client.ts';
import { passwordResetTokens, users } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { AppError } from '../../http/errors.ts';
import { queueEmail } from '../../providers/email/outbox.service.ts';
import { RESET_ACCOUNT_POLICY, RESET_IP_POLICY, reserveAttempt, resetAccountKey, resetIpKey, throttledError } from '../login/throttle.ts';
import { hashPassword } from '../passwords/password-hash.ts';
import { passwordProblem } from '../passwords/password-policy.ts';
import { requestContextOf } from '../request-context.ts';
import { revokeAllSessionsOfUser } from '../sessions/session.repo.ts';
import { hashToken, newToken } from '../tokens.ts';
import { findUserByEmailUnscoped } from '../users.repo.ts';

export const RESET_TOKEN_TTL_MS = 30 * 60_000;

export function registerPasswordResetRoutes(app: FastifyInstance, { config, db }: { config: Config; db: AppDb }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/v1/auth/password-reset/request',
    {
      config: { public: true },
      schema: {
        summary: 'E-mail a single-use reset link (valid 30 minutes); the same answer whether the account exists or not',
        tags: ['auth'],
        body: z.object({ email: z.email({ error: 'expected an e-mail address' }).max(320) }),
        response: { 202: z.object({ message: z.string() }) },
      },
    },
    async (request, reply) => {
      const context = requestContextOf(request);
      const refusal = await withUnscoped(db, async (tx) => {
        // Every request counts (by the address as typed, so a lock says nothing about existence), and by IP.
        const locked = await reserveAttempt(tx, [
          { key: resetAccountKey(request.body.email), policy: RESET_ACCOUNT_POLICY },
          { key: resetIpKey(context.ip), policy: RESET_IP_POLICY },
        ]);
        if (locked) {
          await recordAuditEvent(tx, { organizationId: null, actorType: 'system', actorId: null, action: 'auth.password_reset.requested', outcome: 'failure', ip: context.ip, requestId: context.requestId, details: { email: request.body.email.toLowerCase(), reason: 'throttled' } });
          return throttledError(locked, 'Too many reset requests: wait before asking again');
        }
        const user = await findUserByEmailUnscoped(tx, request.body.email);
        if (!user || user.status !== 'active') {
          await recordAuditEvent(tx, { organizationId: null, actorType: 'system', actorId: null, action: 'auth.password_reset.requested', outcome: 'failure', ip: context.ip, requestId: context.requestId, details: { email: request.body.email.toLowerCase(), reason: user ? 'deactivated' : 'unknown_account' } });
          return undefined;
        }
        // Only the latest link works: earlier ones (maybe in a mailbox someone else reads) are spent.
        await tx.update(passwordResetTokens).set({ usedAt: sql`now()` }).where(and(eq(passwordResetTokens.userId, user.id), isNull(passwordResetTokens.usedAt)));
        const token = newToken();
        const [row] = await tx.insert(passwordResetTokens).values({ userId: user.id, tokenHash: hashToken(token), expiresAt: new Date(Date.now() + RESET_TOKEN_TTL_MS) }).returning();
        await queueEmail(tx, { organizationId: null, to: user.email, template: 'password-reset', locale: user.locale === 'en' ? 'en' : 'fr', variables: { link: `${config.http.publicUrl}/password-reset#token=${token}`, expiresInMinutes: String(RESET_TOKEN_TTL_MS / 60_000) } });
        await recordAuditEvent(tx, { organizationId: null, actorType: 'user', actorId: user.id, action: 'auth.password_reset.requested', targetType: 'password_reset', targetId: row!.id, ip: context.ip, requestId: context.requestId });
        return undefined;
      });
      if (refusal) throw refusal;
      return reply.code(202).send({ message: 'If an account uses this address, a reset link is on its way.' });
    },
  );

  r.post(
    '/api/v1/auth/password-reset/confirm',
    {
      config: { public: true },
      schema: {
        summary: 'Set a new password with a reset token; every session of the account ends',
        tags: ['auth'],
        body: z.object({ token: z.string().min(20).max(200), password: z.string().min(1).max(1024) }),
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const context = requestContextOf(request);
      const failure = await withUnscoped(db, async (tx) => {
        const [row] = await tx
          .select({ id: passwordResetTokens.id, userId: passwordResetTokens.userId, email: users.email })
          .from(passwordResetTokens)
          .innerJoin(users, eq(users.id, passwordResetTokens.userId))
          .where(and(eq(passwordResetTokens.tokenHash, hashToken(request.body.token)), isNull(passwordResetTokens.usedAt), gt(passwordResetTokens.expiresAt, sql`now()`), eq(users.status, 'active')))
          .for('update', { of: passwordResetTokens });
        if (!row) {
          await recordAuditEvent(tx, { organizationId: null, actorType: 'system', actorId: null, action: 'auth.password_reset.completed', outcome: 'failure', ip: context.ip, requestId: context.requestId, details: { reason: 'invalid_token' } });
          return new AppError('bad_request', 'This reset link is invalid, expired or already used', { errors: [{ field: 'body.token', message: 'not a valid reset token' }] });
        }
        const problem = passwordProblem(request.body.password, row.email);
        if (problem) throw new AppError('validation_failed', `The password ${problem}`, { errors: [{ field: 'body.password', message: problem }] });
        await tx.update(users).set({ passwordHash: await hashPassword(request.body.password), updatedAt: sql`now()` }).where(eq(users.id, row.userId));
        // Single use: this one is spent, and any other outstanding link for the account too.
        await tx.update(passwordResetTokens).set({ usedAt: sql`now()` }).where(and(eq(passwordResetTokens.userId, row.userId), isNull(passwordResetTokens.usedAt)));
        const revoked = await revokeAllSessionsOfUser(tx, row.userId);
        await recordAuditEvent(tx, { organizationId: null, actorType: 'user', actorId: row.userId, action: 'auth.password_reset.completed', targetType: 'user', targetId: row.userId, ip: context.ip, requestId: context.requestId, details: { sessionsRevoked: revoked } });
        return undefined;
      });
      if (failure) throw failure;
      return reply.code(204).send(null);
    },
  );
}
