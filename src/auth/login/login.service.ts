import type { Config } from '../../config/load.ts';
import type { AppDb, AppTx } from '../../db/client.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { recordAuditEvent } from '../../audit/audit.service.ts';
import { queueEmail } from '../../providers/email/outbox.service.ts';
import { AppError } from '../../http/errors.ts';
import { hashPassword, verifyAgainstDummy, verifyPassword } from '../passwords/password-hash.ts';
import type { RequestContext } from '../request-context.ts';
import { startSession, type StartedSession } from '../sessions/session.service.ts';
import { findUserByEmailUnscoped, listMembershipsOfUserUnscoped, setPasswordHashUnscoped } from '../users.repo.ts';
import { ACCOUNT_POLICY, IP_POLICY, accountKey, clearFailures, ipKey, releaseAttempt, reserveAttempt } from './throttle.ts';

export interface LoginInput {
  email: string;
  password: string;
  organizationId?: string;
}

export interface LoginSuccess {
  session: StartedSession;
  userId: string;
  organizationId: string | null;
}

/** One answer for every failure, so it does not tell which part was wrong or whether the account exists. */
const INVALID = 'E-mail or password is incorrect';

type Attempt = { ok: true; value: LoginSuccess } | { ok: false; error: AppError };

/**
 * Password sign-in. Every outcome is audited in the transaction that records it; failures count
 * against the account and the IP address (growing locks), and an unknown e-mail costs the same
 * argon2 verification as a known one.
 */
export async function login(db: AppDb, config: Config, input: LoginInput, context: RequestContext): Promise<LoginSuccess> {
  const attempt = await withUnscoped(db, (tx) => attemptLogin(tx, config, input, context));
  if (!attempt.ok) throw attempt.error;
  return attempt.value;
}

async function attemptLogin(tx: AppTx, config: Config, input: LoginInput, context: RequestContext): Promise<Attempt> {
  const keys = [accountKey(input.email), ipKey(context.ip)];
  const audit = (outcome: 'success' | 'failure', actorId: string | null, details: Record<string, unknown>, organizationId: string | null = null) =>
    recordAuditEvent(tx, {
      organizationId,
      actorType: 'user',
      actorId,
      action: outcome === 'success' ? 'auth.login.succeeded' : 'auth.login.failed',
      targetType: 'user',
      ...(actorId ? { targetId: actorId } : {}),
      outcome,
      ip: context.ip,
      requestId: context.requestId,
      details: { email: input.email.trim().toLowerCase(), ...details },
    });

  // Counted before the password is checked, atomically: concurrent guesses cannot all pass a "not locked" read.
  const locked = await reserveAttempt(tx, [
    { key: keys[0]!, policy: ACCOUNT_POLICY },
    { key: keys[1]!, policy: IP_POLICY },
  ]);
  if (locked) {
    await audit('failure', null, { reason: 'throttled' });
    const retryAfterSeconds = Math.max(1, Math.ceil((locked.getTime() - Date.now()) / 1000));
    return { ok: false, error: new AppError('rate_limited', 'Too many failed sign-ins: wait before trying again', { headers: { 'retry-after': String(retryAfterSeconds) } }) };
  }

  const user = await findUserByEmailUnscoped(tx, input.email);
  let passwordOk = false;
  let needsRehash = false;
  if (user?.passwordHash) {
    ({ ok: passwordOk, needsRehash } = await verifyPassword(user.passwordHash, input.password));
  } else {
    await verifyAgainstDummy(input.password);
  }
  if (!user || !passwordOk || user.status !== 'active') {
    const reason = !user ? 'unknown_account' : !passwordOk ? 'wrong_password' : 'deactivated';
    await audit('failure', user?.id ?? null, { reason });
    return { ok: false, error: new AppError('unauthenticated', INVALID) };
  }

  // The password was right: this attempt was no guess.
  const releaseBoth = async () => {
    await releaseAttempt(tx, keys[0]!, ACCOUNT_POLICY);
    await releaseAttempt(tx, keys[1]!, IP_POLICY);
  };
  const memberships = await listMembershipsOfUserUnscoped(tx, user.id);
  let organizationId: string | null = null;
  if (input.organizationId) {
    if (!memberships.some((m) => m.organizationId === input.organizationId)) {
      await releaseBoth();
      await audit('failure', user.id, { reason: 'not_a_member', organizationId: input.organizationId });
      return { ok: false, error: new AppError('forbidden', 'You are not a member of this organisation', { errors: [{ field: 'body.organizationId', message: 'not one of your organisations' }] }) };
    }
    organizationId = input.organizationId;
  } else if (memberships[0]) {
    organizationId = memberships[0].organizationId;
  } else if (!user.isPlatformOperator) {
    await releaseBoth();
    await audit('failure', user.id, { reason: 'no_organisation' });
    return { ok: false, error: new AppError('forbidden', 'Your account belongs to no organisation any more') };
  }

  // Imported bcrypt hashes (and argon2 at older parameters) are upgraded now that the password is known.
  if (needsRehash) await setPasswordHashUnscoped(tx, user.id, await hashPassword(input.password));
  await clearFailures(tx, keys[0]!);
  await releaseAttempt(tx, keys[1]!, IP_POLICY);
  const session = await startSession(tx, config.sessions, { userId: user.id, organizationId, mfaVerifiedAt: null }, context);
  await audit('success', user.id, { sessionId: session.sessionId, rehashed: needsRehash }, organizationId);
  await queueEmail(tx, {
    organizationId,
    to: user.email,
    template: 'new-sign-in',
    locale: user.locale === 'en' ? 'en' : 'fr',
    variables: { ip: context.ip ?? 'unknown', userAgent: context.userAgent ?? 'unknown', at: new Date().toISOString() },
  });
  return { ok: true, value: { session, userId: user.id, organizationId } };
}
