import { describe, expect, it } from 'vitest';
import { type TestApp, useTestApp } from '../../../test/support/app.ts';
import { type TestDatabase } from '../../../test/support/db.ts';
import { createOrganization, createUser, markMfaVerified, signIn, signInWithMfa } from '../../../test/support/identity.ts';

/**
 * Review finding: a session that had only the password (second factor not yet proven) could list
 * and revoke the person's fully signed-in sessions, switch organisation and read the person's
 * organisations. Before the second factor it may only prove it, sign out and see a minimal /me.
 */
describe('a session before its second factor is proven', () => {
  let database: TestDatabase;
  let t: TestApp;
  let orgId: string;
  let otherOrgId: string;

  useTestApp(async (context) => {
    ({ database, t } = context);
    orgId = await createOrganization(database.db, 'Acme');
    otherOrgId = await createOrganization(database.db, 'Other');
  });

  it('cannot list or revoke sessions, switch organisation or list factors; can see a minimal /me and sign out', async () => {
    const userId = await createUser(database.db, { email: 'writer@example.org', organizationId: orgId, role: 'editor' });
    const full = await signInWithMfa(t.app, database.db, t.config, userId, 'writer@example.org');
    const fullId = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: { cookie: full.cookie } })).json().sessions[0].id as string;
    const pending = await signIn(t.app, 'writer@example.org');
    expect(pending.body.next).toBe('mfa-verification');
    expect(pending.body.organizations).toEqual([]);

    const list = await t.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: { cookie: pending.cookie } });
    expect(list.statusCode).toBe(403);
    expect(list.json().code).toBe('mfa_required');
    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${fullId}`, headers: pending.headers });
    expect(revoke.statusCode).toBe(403);
    const factors = await t.app.inject({ method: 'GET', url: '/api/v1/auth/mfa', headers: { cookie: pending.cookie } });
    expect(factors.statusCode).toBe(403);
    const switched = await t.app.inject({ method: 'POST', url: '/api/v1/auth/organization', headers: pending.headers, payload: { organizationId: otherOrgId } });
    expect(switched.statusCode).toBe(403);
    // The fully signed-in session is untouched.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: full.cookie } })).statusCode).toBe(200);

    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: pending.cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ next: 'mfa-verification', organizations: [] });
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: pending.headers })).statusCode).toBe(204);
  });

  it('once the factor is proven, the same routes work', async () => {
    const userId = await createUser(database.db, { email: 'proven@example.org', organizationId: orgId, role: 'editor' });
    const s = await signInWithMfa(t.app, database.db, t.config, userId, 'proven@example.org');
    await markMfaVerified(database.db, s, new Date());
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: { cookie: s.cookie } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/mfa', headers: { cookie: s.cookie } })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: s.cookie } })).json().organizations).toHaveLength(1);
  });
});
