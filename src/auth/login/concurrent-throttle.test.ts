import { TOTP } from 'otpauth';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { type TestApp } from '../../../test/support/app.ts';
import { testEngine, type TestDatabase } from '../../../test/support/db.ts';
import { createUser, enrolTotpDirectly, signIn, useOrganizationTestApp } from '../../../test/support/identity.ts';
import { auditEvents } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { ACCOUNT_POLICY } from './throttle.ts';

/**
 * Review finding: the lock was read without a lock, then argon2 took ~50 ms, then the failure was
 * recorded, so many concurrent guesses all passed the check. Each attempt is now reserved (counted)
 * atomically before the verification. Only a real server runs requests concurrently.
 */
describe.runIf(testEngine() === 'postgres')('throttling under concurrent guesses', () => {
  let database: TestDatabase;
  let t: TestApp;
  let orgId: string;

  useOrganizationTestApp((context) => ({ database, t, orgId } = context));

  const reasons = async (action: string) => {
    const rows = await withUnscoped(database.db, (tx) => tx.select().from(auditEvents).where(eq(auditEvents.action, action)));
    return rows.map((r) => (r.details as { reason?: string } | null)?.reason ?? 'none');
  };

  it('20 concurrent wrong passwords: at most the free allowance reaches the password check', async () => {
    await createUser(database.db, { email: 'target@example.org', organizationId: orgId, role: 'editor' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'target@example.org', password: 'not the password at all' } })),
    );
    expect(answers.every((a) => a.statusCode === 401 || a.statusCode === 429)).toBe(true);
    const failed = await reasons('auth.login.failed');
    expect(failed).toHaveLength(20);
    expect(failed.filter((r) => r === 'wrong_password').length).toBeLessThanOrEqual(ACCOUNT_POLICY.freeFailures + 1);
    expect(failed.filter((r) => r === 'throttled').length).toBeGreaterThanOrEqual(20 - ACCOUNT_POLICY.freeFailures - 1);
  });

  it('20 concurrent wrong second-factor codes: at most the free allowance is checked', async () => {
    const userId = await createUser(database.db, { email: 'mfa-target@example.org', organizationId: orgId, role: 'editor' });
    const secret = await enrolTotpDirectly(database.db, t.config, userId);
    const s = await signIn(t.app, 'mfa-target@example.org');
    const good = new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 }).generate();
    const wrong = good === '000000' ? '111111' : '000000';
    await Promise.all(Array.from({ length: 20 }, () => t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/verify', headers: s.headers, payload: { code: wrong } })));
    const verified = await reasons('auth.mfa.verified');
    expect(verified).toHaveLength(20);
    expect(verified.filter((r) => r !== 'throttled').length).toBeLessThanOrEqual(ACCOUNT_POLICY.freeFailures + 1);
  });
});
