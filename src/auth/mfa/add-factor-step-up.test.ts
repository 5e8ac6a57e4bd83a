import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { type TestApp } from '../../../test/support/app.ts';
import { type TestDatabase } from '../../../test/support/db.ts';
import { createUser, enrolTotpDirectly, markMfaVerified, sessionCookieOf, signIn, signedInFrom, useOrganizationTestApp } from '../../../test/support/identity.ts';
import { SoftAuthenticator } from '../../../test/support/soft-authenticator.ts';
import { sessions } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { hashToken } from '../tokens.ts';

/**
 * Review finding: enrolling a new factor used to count as proving a second factor, so a session
 * whose step-up had gone stale (or a stolen password-only session) could add a passkey it controls
 * and at once create API keys or remove the real factors.
 */
describe('adding a second factor when one exists', () => {
  let database: TestDatabase;
  let t: TestApp;
  let orgId: string;
  const authenticator = { register: (options: { challenge: string }) => new SoftAuthenticator('localhost', 'https://localhost:8443').register(options) };

  useOrganizationTestApp((context) => ({ database, t, orgId } = context));

  it('a session with a stale step-up cannot add a passkey, then create an API key or remove the existing factor', async () => {
    const userId = await createUser(database.db, { email: 'stale@example.org', organizationId: orgId, role: 'admin' });
    await enrolTotpDirectly(database.db, t.config, userId);
    const s = await signIn(t.app, 'stale@example.org');
    await markMfaVerified(database.db, s, new Date(Date.now() - 11 * 60_000));

    const options = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/registration/options', headers: s.headers });
    expect(options.statusCode).toBe(403);
    expect(options.json().code).toBe('step_up_required');
    const registered = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/registration/verify', headers: s.headers, payload: { name: 'Attacker', response: authenticator.register({ challenge: 'bm9uZQ' }) } });
    expect(registered.statusCode).toBe(403);
    const current = sessionCookieOf(registered) ? signedInFrom({ cookies: registered.cookies, json: () => registered.json().session }).headers : s.headers;
    const key = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: current, payload: { name: 'x', permissions: ['members:read'], expiresAt: new Date(Date.now() + 86_400_000).toISOString() } });
    expect(key.json().code).toBe('step_up_required');
    const removeTotp = await t.app.inject({ method: 'DELETE', url: '/api/v1/auth/mfa/totp', headers: current });
    expect(removeTotp.json().code).toBe('step_up_required');
  });

  it('with a recent proof a passkey can be added, but adding it does not refresh the step-up', async () => {
    const userId = await createUser(database.db, { email: 'recent@example.org', organizationId: orgId, role: 'admin' });
    await enrolTotpDirectly(database.db, t.config, userId);
    const s = await signIn(t.app, 'recent@example.org');
    const provenAt = new Date(Date.now() - 9 * 60_000);
    await markMfaVerified(database.db, s, provenAt);

    const options = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/registration/options', headers: s.headers });
    expect(options.statusCode).toBe(200);
    const registered = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/registration/verify', headers: s.headers, payload: { name: 'Laptop', response: authenticator.register(options.json()) } });
    expect(registered.statusCode).toBe(200);
    const token = sessionCookieOf(registered)!;
    const [row] = await withUnscoped(database.db, (tx) => tx.select().from(sessions).where(eq(sessions.tokenHash, hashToken(token))));
    expect(row!.mfaVerifiedAt?.getTime()).toBe(provenAt.getTime());
  });

  it('the first factor of someone who has none still completes the sign-in (unchanged)', async () => {
    await createUser(database.db, { email: 'first@example.org', organizationId: orgId, role: 'admin' });
    const s = await signIn(t.app, 'first@example.org');
    const options = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/registration/options', headers: s.headers });
    const registered = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/registration/verify', headers: s.headers, payload: { name: 'Laptop', response: authenticator.register(options.json()) } });
    expect(registered.statusCode).toBe(200);
    expect(registered.json().session.mfa.verified).toBe(true);
  });
});
