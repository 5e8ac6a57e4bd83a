import { describe, expect, it } from 'vitest';
import { type TestApp } from '../../../test/support/app.ts';
import { type TestDatabase } from '../../../test/support/db.ts';
import { createUser, markMfaVerified, signIn, signInWithMfa, signedInFrom, useOrganizationTestApp } from '../../../test/support/identity.ts';

describe('own account', () => {
  let database: TestDatabase;
  let t: TestApp;
  let orgId: string;

  useOrganizationTestApp((context) => ({ database, t, orgId } = context));

  it('changes the password: current one required, policy applied, other sessions end', async () => {
    await createUser(database.db, { email: 'eve@example.org', organizationId: orgId, role: 'editor' });
    const a = await signIn(t.app, 'eve@example.org');
    const b = await signIn(t.app, 'eve@example.org');
    const change = (currentPassword: string, newPassword: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: a.headers, payload: { currentPassword, newPassword } });
    expect((await change('not my password', 'a long new passphrase 1')).statusCode).toBe(401);
    const weak = await change('correct horse battery staple 42', 'password1234');
    expect(weak.statusCode).toBe(400);
    expect(weak.json().errors[0].field).toBe('body.newPassword');
    const ok = await change('correct horse battery staple 42', 'a long new passphrase 1');
    expect(ok.statusCode).toBe(200);
    const me = (cookie: string) => t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });
    expect((await me(a.cookie)).statusCode).toBe(401);
    expect((await me(b.cookie)).statusCode).toBe(401);
    expect((await me(signedInFrom(ok).cookie)).statusCode).toBe(200);
    await signIn(t.app, 'eve@example.org', 'a long new passphrase 1');
  });

  it('new recovery codes and factor removal need a recent second factor; an admin keeps at least one', async () => {
    const analystId = await createUser(database.db, { email: 'ana@example.org', organizationId: orgId, role: 'analyst' });
    const s = await signInWithMfa(t.app, database.db, t.config, analystId, 'ana@example.org');
    await markMfaVerified(database.db, s, new Date(Date.now() - 11 * 60_000));
    const stale = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/recovery-codes', headers: s.headers });
    expect(stale.json().code).toBe('step_up_required');
    await markMfaVerified(database.db, s, new Date());
    const codes = await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/recovery-codes', headers: s.headers });
    expect(codes.json().recoveryCodes).toHaveLength(10);
    expect((await t.app.inject({ method: 'DELETE', url: '/api/v1/auth/mfa/totp', headers: s.headers })).statusCode).toBe(204);

    const adminId = await createUser(database.db, { email: 'adm@example.org', organizationId: orgId, role: 'admin' });
    const admin = await signInWithMfa(t.app, database.db, t.config, adminId, 'adm@example.org');
    const refused = await t.app.inject({ method: 'DELETE', url: '/api/v1/auth/mfa/totp', headers: admin.headers });
    expect(refused.statusCode).toBe(409);
    const factors = await t.app.inject({ method: 'GET', url: '/api/v1/auth/mfa', headers: { cookie: admin.cookie } });
    expect(factors.json().totp).toBe(true);
  });
});
