import { describe, expect, it } from 'vitest';
import { type TestApp } from '../../../test/support/app.ts';
import { type TestDatabase } from '../../../test/support/db.ts';
import { TEST_PASSWORD, createUser, lastEmailTo, signIn, tokenFromLink, useOrganizationTestApp } from '../../../test/support/identity.ts';
import { ACCOUNT_POLICY } from '../login/throttle.ts';

/**
 * Review findings: the password change answered "wrong current password" without limit (an oracle
 * for whoever holds a session), and reset requests were unthrottled, each leaving earlier links valid.
 */
describe('password change and reset requests are throttled', () => {
  let database: TestDatabase;
  let t: TestApp;
  let orgId: string;

  useOrganizationTestApp((context) => ({ database, t, orgId } = context));

  it('wrong current passwords count against the sign-in throttle: then even the right one is refused, and sign-in too', async () => {
    await createUser(database.db, { email: 'oracle@example.org', organizationId: orgId, role: 'editor' });
    const s = await signIn(t.app, 'oracle@example.org');
    const change = (currentPassword: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/password', headers: s.headers, payload: { currentPassword, newPassword: 'another long passphrase 77' } });
    for (let i = 0; i <= ACCOUNT_POLICY.freeFailures; i++) expect((await change(`guess number ${i}`)).statusCode).toBe(401);
    const locked = await change(TEST_PASSWORD);
    expect(locked.statusCode).toBe(429);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'oracle@example.org', password: TEST_PASSWORD } })).statusCode).toBe(429);
  });

  it('a new reset request invalidates the earlier link', async () => {
    await createUser(database.db, { email: 'forgetful@example.org', organizationId: orgId, role: 'editor' });
    const request = () => t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/request', payload: { email: 'forgetful@example.org' } });
    expect((await request()).statusCode).toBe(202);
    const first = tokenFromLink((await lastEmailTo(database.db, 'forgetful@example.org', 'password-reset')).link!);
    expect((await request()).statusCode).toBe(202);
    const second = tokenFromLink((await lastEmailTo(database.db, 'forgetful@example.org', 'password-reset')).link!);
    expect(second).not.toBe(first);
    const confirm = (token: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token, password: 'a brand new passphrase 88' } });
    expect((await confirm(first)).statusCode).toBe(400);
    expect((await confirm(second)).statusCode).toBe(204);
  });

  it('reset requests are throttled per account (whether or not it exists)', async () => {
    const request = (email: string) => t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/request', payload: { email } });
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push((await request('nobody@example.org')).statusCode);
    expect(answers.slice(0, 2)).toEqual([202, 202]);
    expect(answers).toContain(429);
  });
});
