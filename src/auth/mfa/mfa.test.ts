import { TOTP, URI } from 'otpauth';
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestApp } from '../../../test/support/app.ts';
import { type TestDatabase } from '../../../test/support/db.ts';
import { createUser, enrolTotpDirectly, signIn, signedInFrom, type SignedIn, useOrganizationTestApp } from '../../../test/support/identity.ts';
import { SoftAuthenticator } from '../../../test/support/soft-authenticator.ts';
import { recoveryCodes, totpFactors } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';

describe('second factors', () => {
  let database: TestDatabase;
  let t: TestApp;
  let orgId: string;

  useOrganizationTestApp((context) => ({ database, t, orgId } = context));

  const someJob = '/api/v1/jobs/00000000-0000-4000-8000-000000000000';

  it('an admin can do nothing but enrol until TOTP is enrolled; codes are single-use; recovery codes work once', async () => {
    await createUser(database.db, { email: 'admin@example.org', organizationId: orgId, role: 'admin' });
    const s = await signIn(t.app, 'admin@example.org');
    expect(s.body.next).toBe('mfa-enrolment');
    const blocked = await t.app.inject({ method: 'GET', url: someJob, headers: { cookie: s.cookie } });
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().code).toBe('mfa_enrolment_required');

    const setup = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', headers: s.headers });
    expect(setup.statusCode).toBe(200);
    const { otpauthUri, qrCodeDataUrl } = setup.json();
    expect(qrCodeDataUrl).toMatch(/^data:image\/png;base64,/);
    const totp = URI.parse(otpauthUri) as TOTP;
    // Sealed at rest: the base32 secret is not in the row.
    const [factor] = await withUnscoped(database.db, (tx) => tx.select().from(totpFactors));
    expect(factor!.secretSealed).not.toContain(totp.secret.base32);
    expect(factor!.secretSealed).toMatch(/^sv1\./);

    const wrong = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/confirm', headers: s.headers, payload: { code: '000000' === totp.generate() ? '111111' : '000000' } });
    expect(wrong.statusCode).toBe(401);
    const code = totp.generate();
    const confirm = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/confirm', headers: s.headers, payload: { code } });
    expect(confirm.statusCode).toBe(200);
    const codes = confirm.json().recoveryCodes as string[];
    expect(codes).toHaveLength(10);
    const stored = await withUnscoped(database.db, (tx) => tx.select().from(recoveryCodes));
    expect(JSON.stringify(stored)).not.toContain(codes[0]!.replaceAll('-', ''));
    // The session id changed: the old cookie is dead, the new one passes.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: s.cookie } })).statusCode).toBe(401);
    const enrolled = signedInFrom({ cookies: confirm.cookies, json: () => confirm.json().session });
    expect((await t.app.inject({ method: 'GET', url: someJob, headers: { cookie: enrolled.cookie } })).statusCode).toBe(404);

    // A new sign-in needs the second factor; the code already used is refused (replay).
    const again = await signIn(t.app, 'admin@example.org');
    expect(again.body.next).toBe('mfa-verification');
    const pending = await t.app.inject({ method: 'GET', url: someJob, headers: { cookie: again.cookie } });
    expect(pending.json().code).toBe('mfa_required');
    const replay = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/verify', headers: again.headers, payload: { code } });
    expect(replay.statusCode).toBe(401);
    const nextCode = totp.generate({ timestamp: Date.now() + 30_000 });
    const verify = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/verify', headers: again.headers, payload: { code: nextCode } });
    expect(verify.statusCode).toBe(200);
    const verified = signedInFrom(verify);
    expect((await t.app.inject({ method: 'GET', url: someJob, headers: { cookie: verified.cookie } })).statusCode).toBe(404);

    // Recovery code: accepted once.
    const third = await signIn(t.app, 'admin@example.org');
    const useCode = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/recovery-codes/verify', headers: third.headers, payload: { code: codes[0] } });
    expect(useCode.statusCode).toBe(200);
    const fourth = await signIn(t.app, 'admin@example.org');
    const reuse = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/recovery-codes/verify', headers: fourth.headers, payload: { code: codes[0] } });
    expect(reuse.statusCode).toBe(401);
  });

  it('throttles wrong second-factor codes per user', async () => {
    const userId = await createUser(database.db, { email: 'guesser@example.org', organizationId: orgId, role: 'editor' });
    const secret = await enrolTotpDirectly(database.db, t.config, userId);
    const s = await signIn(t.app, 'guesser@example.org');
    const totp = new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 });
    const good = totp.generate();
    const wrong = good === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++) {
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/verify', headers: s.headers, payload: { code: wrong } })).statusCode).toBe(401);
    }
    const locked = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/verify', headers: s.headers, payload: { code: good } });
    expect(locked.statusCode).toBe(429);
  });

  it('a member without MFA is not forced to enrol', async () => {
    await createUser(database.db, { email: 'member@example.org', organizationId: orgId, role: 'analyst' });
    const s = await signIn(t.app, 'member@example.org');
    expect(s.body.next).toBeNull();
    expect((await t.app.inject({ method: 'GET', url: someJob, headers: { cookie: s.cookie } })).statusCode).toBe(404);
  });

  describe('passkeys', () => {
    let s: SignedIn;
    const authenticator = new SoftAuthenticator('localhost', 'https://localhost:8443');

    beforeAll(async () => {
      await createUser(database.db, { email: 'owner@example.org', organizationId: orgId, role: 'owner' });
      s = await signIn(t.app, 'owner@example.org');
    });

    it('refuses a registration without a challenge or with a forged answer', async () => {
      const noChallenge = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/registration/verify', headers: s.headers, payload: { name: 'x', response: authenticator.register({ challenge: 'bm9uZQ' }) } });
      expect(noChallenge.statusCode).toBe(401);
      const options = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/registration/options', headers: s.headers });
      expect(options.statusCode).toBe(200);
      expect(options.json()).toMatchObject({ rp: { id: 'localhost', name: 'Savoir' }, attestation: 'none' });
      const forged = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/registration/verify', headers: s.headers, payload: { name: 'x', response: authenticator.register({ challenge: 'd3JvbmctY2hhbGxlbmdl' }) } });
      expect(forged.statusCode).toBe(401);
    });

    it('registers a passkey and signs in with it (full ceremony with a software authenticator)', async () => {
      const options = (await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/registration/options', headers: s.headers })).json();
      const registered = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/registration/verify', headers: s.headers, payload: { name: 'Laptop', response: authenticator.register(options) } });
      expect(registered.statusCode).toBe(200);
      expect(registered.json().recoveryCodes).toHaveLength(10);

      const again = await signIn(t.app, 'owner@example.org');
      expect(again.body.next).toBe('mfa-verification');
      const authOptions = (await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/authentication/options', headers: again.headers })).json();
      expect(authOptions.allowCredentials).toHaveLength(1);
      const wrongOrigin = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/authentication/verify', headers: again.headers, payload: { response: authenticator.authenticate(authOptions, 'https://evil.example') } });
      expect(wrongOrigin.statusCode).toBe(401);
      // The challenge was consumed by the failed attempt: a fresh one is needed.
      const fresh = (await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/authentication/options', headers: again.headers })).json();
      const ok = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/authentication/verify', headers: again.headers, payload: { response: authenticator.authenticate(fresh) } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().next).toBeNull();
      const factors = await t.app.inject({ method: 'GET', url: '/api/v1/auth/mfa', headers: { cookie: signedInFrom(ok).cookie } });
      expect(factors.json()).toMatchObject({ totp: false, passkeys: [{ name: 'Laptop' }], recoveryCodesLeft: 10 });
    });
  });
});
