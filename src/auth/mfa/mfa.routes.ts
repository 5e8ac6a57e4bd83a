import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { and, count, eq, isNotNull } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordAuditEvent } from '../../audit/audit.service.ts';
import type { Config } from '../../config/load.ts';
import type { AppDb, AppTx } from '../../db/client.ts';
import { authorize } from '../../access/authorize.ts';
import { recoveryCodes, totpFactors, webauthnCredentials } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { AppError } from '../../http/errors.ts';
import { anyPrincipalOf, type Principal } from '../../http/route-access.ts';
import { auditActor } from '../audit-actor.ts';
import { ACCOUNT_POLICY, clearFailures, mfaKey, reserveAttempt } from '../login/throttle.ts';
import { requestContextOf } from '../request-context.ts';
import { answerWithSession, sessionStateSchema } from '../sessions/session.routes.ts';
import { rotateSession, type StartedSession } from '../sessions/session.service.ts';
import { findUserByIdUnscoped } from '../users.repo.ts';
import { consumeRecoveryCode, hasRecoveryCodes, issueRecoveryCodes } from './recovery-codes.ts';
import type { KeyRing } from '../../crypto/key-ring.ts';
import { beginTotpEnrolment, checkTotpCode } from './totp.service.ts';
import { beginPasskeyAuthentication, beginPasskeyRegistration, finishPasskeyAuthentication, finishPasskeyRegistration } from './webauthn.service.ts';

export interface MfaRouteDeps {
  config: Config;
  db: AppDb;
  keyRing: KeyRing;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: AppError };

function sessionCaller(request: FastifyRequest): Principal & { userId: string; sessionId: string } {
  const principal = anyPrincipalOf(request);
  if (!principal.userId || !principal.sessionId) throw new AppError('forbidden', 'Second factors belong to signed-in people, not API keys');
  return principal as Principal & { userId: string; sessionId: string };
}

export function registerMfaRoutes(app: FastifyInstance, { config, db, keyRing }: MfaRouteDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const codeBody = z.object({ code: z.string().min(1).max(64) });

  /** Confirmed factors only: a TOTP secret awaiting its first code proves nothing. */
  async function hasConfirmedFactor(tx: AppTx, userId: string): Promise<boolean> {
    const [totp] = await tx.select({ n: count() }).from(totpFactors).where(and(eq(totpFactors.userId, userId), isNotNull(totpFactors.confirmedAt)));
    const [keys] = await tx.select({ n: count() }).from(webauthnCredentials).where(eq(webauthnCredentials.userId, userId));
    return (totp?.n ?? 0) + (keys?.n ?? 0) > 0;
  }

  /**
   * Runs one second-factor check in a transaction: throttled per user, audited either way, and on
   * success the session is rotated. Proving an existing factor marks it as proven now (sign-in or
   * step-up). Enrolling a factor (`enrolment`) does so only for the first one: a new factor is not
   * a proof, since whoever holds the session chose it; adding one beside an existing factor needs
   * a recent step-up with that factor (checked by the matrix, and again here in the transaction).
   */
  async function proveSecondFactor(
    request: FastifyRequest,
    action: string,
    check: (tx: AppTx, caller: Principal & { userId: string; sessionId: string }) => Promise<boolean>,
    onSuccess?: (tx: AppTx, userId: string) => Promise<string[] | null>,
    enrolment = false,
  ): Promise<{ session: StartedSession; recoveryCodes: string[] | null }> {
    const caller = sessionCaller(request);
    const context = requestContextOf(request);
    const outcome = await withUnscoped(db, async (tx): Promise<Outcome<{ session: StartedSession; recoveryCodes: string[] | null }>> => {
      const event = { ...auditActor(caller, context), organizationId: caller.organizationId, action, targetType: 'user', targetId: caller.userId };
      const addsToExisting = enrolment && (await hasConfirmedFactor(tx, caller.userId));
      // The request was authorised on the state read before it; a factor enrolled meanwhile (another tab) must not let this one skip step-up.
      if (addsToExisting) authorize({ ...caller, mfa: { enrolled: true, verifiedAt: caller.mfa?.verifiedAt ?? null } }, 'mfa:enrol');
      // Counted before the check, atomically (concurrent guesses queue on the row); cleared on success.
      if (await reserveAttempt(tx, [{ key: mfaKey(caller.userId), policy: ACCOUNT_POLICY }])) {
        await recordAuditEvent(tx, { ...event, outcome: 'failure', details: { reason: 'throttled' } });
        return { ok: false, error: new AppError('rate_limited', 'Too many wrong codes: wait before trying again') };
      }
      if (!(await check(tx, caller))) {
        await recordAuditEvent(tx, { ...event, outcome: 'failure' });
        return { ok: false, error: new AppError('unauthenticated', 'The second factor was not accepted', { errors: [{ field: 'body', message: 'invalid, expired or already used' }] }) };
      }
      await clearFailures(tx, mfaKey(caller.userId));
      const recoveryCodes = onSuccess ? await onSuccess(tx, caller.userId) : null;
      const session = await rotateSession(tx, config.sessions, caller.sessionId, addsToExisting ? {} : { mfaVerifiedAt: new Date() }, context);
      await recordAuditEvent(tx, { ...event, outcome: 'success', details: { newSessionId: session.sessionId, ...(enrolment ? { additionalFactor: addsToExisting } : {}) } });
      return { ok: true, value: { session, recoveryCodes } };
    });
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /** The first factor enrolled comes with ten recovery codes (shown once). */
  const recoveryCodesIfFirst = async (tx: AppTx, userId: string) => ((await hasRecoveryCodes(tx, userId)) ? null : issueRecoveryCodes(tx, userId));
  const enrolledAnswer = z.object({ recoveryCodes: z.array(z.string()).nullable(), session: sessionStateSchema });

  r.get(
    '/api/v1/auth/mfa',
    {
      config: { permission: 'session:manage' },
      schema: {
        summary: 'Your second factors',
        tags: ['mfa'],
        response: { 200: z.object({ totp: z.boolean(), passkeys: z.array(z.object({ id: z.uuid(), name: z.string(), createdAt: z.string(), lastUsedAt: z.string().nullable() })), recoveryCodesLeft: z.number().int() }) },
      },
    },
    async (request) => {
      const { userId } = sessionCaller(request);
      return withUnscoped(db, async (tx) => {
        const [totp] = await tx.select().from(totpFactors).where(eq(totpFactors.userId, userId));
        const passkeys = await tx.select().from(webauthnCredentials).where(eq(webauthnCredentials.userId, userId));
        const codes = await tx.select().from(recoveryCodes).where(eq(recoveryCodes.userId, userId));
        return {
          totp: Boolean(totp?.confirmedAt),
          passkeys: passkeys.map((p) => ({ id: p.id, name: p.name, createdAt: p.createdAt.toISOString(), lastUsedAt: p.lastUsedAt?.toISOString() ?? null })),
          recoveryCodesLeft: codes.filter((c) => c.usedAt === null).length,
        };
      });
    },
  );

  r.post(
    '/api/v1/auth/mfa/totp/setup',
    {
      config: { permission: 'mfa:enrol' },
      schema: { summary: 'Start TOTP enrolment: the otpauth URI and its QR code (shown once)', tags: ['mfa'], response: { 200: z.object({ otpauthUri: z.string(), qrCodeDataUrl: z.string() }) } },
    },
    async (request) => {
      const caller = sessionCaller(request);
      await keyRing.ready(); // sealing may need a connection of its own: not inside the transaction
      const result = await withUnscoped(db, async (tx) => {
        const user = await findUserByIdUnscoped(tx, caller.userId);
        return beginTotpEnrolment(tx, caller.userId, user!.email, keyRing);
      });
      if (result === 'already-enrolled') throw new AppError('conflict', 'TOTP is already enrolled');
      return result;
    },
  );

  r.post(
    '/api/v1/auth/mfa/totp/confirm',
    { config: { permission: 'mfa:enrol' }, schema: { summary: 'Finish TOTP enrolment with a first code; the session id changes', tags: ['mfa'], body: codeBody, response: { 200: enrolledAnswer } } },
    async (request, reply) => {
      const { session, recoveryCodes: codes } = await proveSecondFactor(request, 'mfa.totp.enrolled', (tx, caller) => checkTotpCode(tx, caller.userId, request.body.code, keyRing, { pending: true }), recoveryCodesIfFirst, true);
      return { recoveryCodes: codes, session: await answerWithSession(db, reply, session) };
    },
  );

  r.post(
    '/api/v1/auth/mfa/totp/verify',
    { config: { permission: 'mfa:verify' }, schema: { summary: 'Prove the TOTP factor (sign-in or step-up); the session id changes', tags: ['mfa'], body: codeBody, response: { 200: sessionStateSchema } } },
    async (request, reply) => {
      const { session } = await proveSecondFactor(request, 'auth.mfa.verified', (tx, caller) => checkTotpCode(tx, caller.userId, request.body.code, keyRing, { pending: false }));
      return answerWithSession(db, reply, session);
    },
  );

  r.post(
    '/api/v1/auth/mfa/recovery-codes/verify',
    { config: { permission: 'mfa:verify' }, schema: { summary: 'Use a single-use recovery code instead of the second factor', tags: ['mfa'], body: codeBody, response: { 200: sessionStateSchema } } },
    async (request, reply) => {
      const { session } = await proveSecondFactor(request, 'auth.mfa.recovery_code_used', (tx, caller) => consumeRecoveryCode(tx, caller.userId, request.body.code));
      return answerWithSession(db, reply, session);
    },
  );

  const webauthnOptions = z.record(z.string(), z.unknown());
  r.post(
    '/api/v1/auth/mfa/passkeys/registration/options',
    { config: { permission: 'mfa:enrol' }, schema: { summary: 'WebAuthn registration options for a new passkey', tags: ['mfa'], response: { 200: webauthnOptions } } },
    async (request) => {
      const caller = sessionCaller(request);
      return withUnscoped(db, async (tx) => {
        const user = await findUserByIdUnscoped(tx, caller.userId);
        return (await beginPasskeyRegistration(tx, config, { id: caller.userId, email: user!.email }, caller.sessionId)) as unknown as Record<string, unknown>;
      });
    },
  );

  r.post(
    '/api/v1/auth/mfa/passkeys/registration/verify',
    {
      config: { permission: 'mfa:enrol' },
      schema: { summary: 'Register the passkey the browser created; the session id changes', tags: ['mfa'], body: z.object({ name: z.string().trim().min(1).max(100), response: webauthnOptions }), response: { 200: enrolledAnswer } },
    },
    async (request, reply) => {
      const { session, recoveryCodes: codes } = await proveSecondFactor(
        request,
        'mfa.passkey.enrolled',
        async (tx, caller) => Boolean(await finishPasskeyRegistration(tx, config, caller.userId, caller.sessionId, request.body.response as unknown as RegistrationResponseJSON, request.body.name)),
        recoveryCodesIfFirst,
        true,
      );
      return { recoveryCodes: codes, session: await answerWithSession(db, reply, session) };
    },
  );

  r.post(
    '/api/v1/auth/mfa/passkeys/authentication/options',
    { config: { permission: 'mfa:verify' }, schema: { summary: 'WebAuthn authentication options (sign-in or step-up)', tags: ['mfa'], response: { 200: webauthnOptions } } },
    async (request) => {
      const caller = sessionCaller(request);
      return withUnscoped(db, async (tx) => (await beginPasskeyAuthentication(tx, config, caller.userId, caller.sessionId)) as unknown as Record<string, unknown>);
    },
  );

  r.post(
    '/api/v1/auth/mfa/passkeys/authentication/verify',
    { config: { permission: 'mfa:verify' }, schema: { summary: 'Prove a passkey; the session id changes', tags: ['mfa'], body: z.object({ response: webauthnOptions }), response: { 200: sessionStateSchema } } },
    async (request, reply) => {
      const { session } = await proveSecondFactor(request, 'auth.mfa.verified', (tx, caller) => finishPasskeyAuthentication(tx, config, caller.userId, caller.sessionId, request.body.response as unknown as AuthenticationResponseJSON));
      return answerWithSession(db, reply, session);
    },
  );
}
