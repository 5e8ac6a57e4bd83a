import { hash as bcryptHash } from '@node-rs/bcrypt';
import { eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { type TestDatabase } from '../../../test/support/db.ts';
import { type TestApp, useTestApp } from '../../../test/support/app.ts';
import { createOrganization, createUser, sessionCookieOf, signedInFrom, signIn, TEST_PASSWORD } from '../../../test/support/identity.ts';
import { auditEvents, loginThrottle, memberships, sessions, users } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { SESSION_COOKIE } from '../sessions/session-cookie.ts';
import { hashToken } from '../tokens.ts';

describe('password sign-in', () => {
  let database: TestDatabase;
  let t: TestApp;
  let orgId: string;

  useTestApp(async (context) => {
    ({ database, t } = context);
    orgId = await createOrganization(database.db, 'Acme');
    await createUser(database.db, { email: 'Ada@Example.org', organizationId: orgId, role: 'editor' });
  });

  it('signs in (e-mail case-insensitive), sets a __Host- cookie, and stores only the token hash', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ada@example.org', password: TEST_PASSWORD } });
    expect(response.statusCode).toBe(200);
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toContain(`${SESSION_COOKIE}=`);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/Secure/i);
    expect(setCookie).toMatch(/SameSite=Strict/i);
    expect(setCookie).toMatch(/Path=\//);
    const body = response.json();
    expect(body).toMatchObject({ organizationId: orgId, role: 'editor', next: null });
    const token = sessionCookieOf(response)!;
    const stored = await withUnscoped(database.db, (tx) => tx.select().from(sessions));
    expect(stored.some((s) => s.tokenHash === hashToken(token))).toBe(true);
    expect(JSON.stringify(stored)).not.toContain(token);
  });

  it('answers an unknown account exactly like a wrong password', async () => {
    const unknown = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'nobody@example.org', password: TEST_PASSWORD } });
    const wrong = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ada@example.org', password: 'not the right password' } });
    expect(unknown.statusCode).toBe(401);
    expect(wrong.statusCode).toBe(401);
    const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
    expect(strip(unknown.json())).toEqual(strip(wrong.json()));
  });

  it('locks an account after repeated failures, even for the right password, then lets it in once the lock ends', async () => {
    await createUser(database.db, { email: 'brute@example.org', organizationId: orgId });
    for (let i = 0; i < 4; i++) {
      const r = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'brute@example.org', password: `wrong password ${i}` } });
      expect(r.statusCode).toBe(401);
    }
    const locked = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'brute@example.org', password: TEST_PASSWORD } });
    expect(locked.statusCode).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    // The same lock for an e-mail that has no account: a lock says nothing about existence.
    for (let i = 0; i < 4; i++) await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ghost@example.org', password: `wrong password ${i}` } });
    const ghost = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ghost@example.org', password: TEST_PASSWORD } });
    expect(ghost.statusCode).toBe(429);
    // Lock durations grow: each further failure doubles it.
    const row = await withUnscoped(database.db, (tx) => tx.select().from(loginThrottle).where(eq(loginThrottle.key, 'account:brute@example.org')));
    expect(row[0]!.failures).toBe(4);
    // Expire the lock (as time would) and the right password gets in.
    await withUnscoped(database.db, (tx) => tx.update(loginThrottle).set({ lockedUntil: new Date(Date.now() - 1000) }).where(eq(loginThrottle.key, 'account:brute@example.org')));
    const after = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'brute@example.org', password: TEST_PASSWORD } });
    expect(after.statusCode).toBe(200);
  });

  it('locks an IP address that tries many accounts', async () => {
    const ip = '203.0.113.9';
    for (let i = 0; i < 21; i++) {
      await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: { email: `spray${i}@example.org`, password: 'wrong password here' } });
    }
    const fresh = await createUser(database.db, { email: 'victim@example.org', organizationId: orgId });
    expect(fresh).toBeTruthy();
    const r = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: { email: 'victim@example.org', password: TEST_PASSWORD } });
    expect(r.statusCode).toBe(429);
    const elsewhere = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '198.51.100.7', payload: { email: 'victim@example.org', password: TEST_PASSWORD } });
    expect(elsewhere.statusCode).toBe(200);
  });

  it('verifies an imported bcrypt hash and upgrades it to argon2id at sign-in', async () => {
    const userId = await createUser(database.db, { email: 'legacy@example.org', organizationId: orgId, passwordHash: await bcryptHash(TEST_PASSWORD, 10) });
    await signIn(t.app, 'legacy@example.org');
    const [user] = await withUnscoped(database.db, (tx) => tx.select().from(users).where(eq(users.id, userId)));
    expect(user!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await signIn(t.app, 'legacy@example.org');
  });

  it('audits every sign-in, failures included, with the reason (never the password)', async () => {
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'audit-ghost@example.org', password: 'some wrong password' } });
    await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'ada@example.org', password: 'another wrong password' } });
    await signIn(t.app, 'ada@example.org');
    const events = await withUnscoped(database.db, (tx) => tx.select().from(auditEvents).where(inArray(auditEvents.action, ['auth.login.failed', 'auth.login.succeeded'])));
    const ghost = events.find((e) => (e.details as { email?: string }).email === 'audit-ghost@example.org');
    expect(ghost).toMatchObject({ action: 'auth.login.failed', outcome: 'failure', organizationId: null, details: { reason: 'unknown_account' } });
    expect(events.some((e) => e.action === 'auth.login.failed' && (e.details as { reason?: string }).reason === 'wrong_password')).toBe(true);
    expect(events.some((e) => e.action === 'auth.login.succeeded' && e.organizationId === orgId)).toBe(true);
    expect(JSON.stringify(events)).not.toContain('wrong password');
  });

  it('the OpenAPI document describes the identity routes', async () => {
    const doc = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(Object.keys(doc.json().paths)).toEqual(expect.arrayContaining(['/api/v1/auth/login', '/api/v1/api-keys', '/api/v1/members/{membershipId}']));
  });

  it('me, CSRF on state changes, session list, revoke, logout', async () => {
    const a = await signIn(t.app, 'ada@example.org');
    const b = await signIn(t.app, 'ada@example.org');
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: a.cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json().email).toBe('Ada@Example.org');

    const noCsrf = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: a.cookie } });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().code).toBe('csrf_failed');
    const wrongCsrf = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie: a.cookie, 'x-csrf-token': b.csrfToken } });
    expect(wrongCsrf.statusCode).toBe(403);

    const list = await t.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: { cookie: a.cookie } });
    const listed = list.json().sessions as { id: string; current: boolean }[];
    const other = listed.find((s) => !s.current)!;
    expect(listed.filter((s) => s.current)).toHaveLength(1);
    const bId = (await t.app.inject({ method: 'GET', url: '/api/v1/auth/sessions', headers: { cookie: b.cookie } })).json().sessions.find((s: { current: boolean }) => s.current).id;
    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/v1/auth/sessions/${bId}`, headers: a.headers });
    expect(revoke.statusCode).toBe(204);
    expect(other).toBeTruthy();
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: b.cookie } })).statusCode).toBe(401);

    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: a.headers });
    expect(out.statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: a.cookie } })).statusCode).toBe(401);
  });

  it('signs in to the organisation chosen, switches with a new session id, and not into a stranger organisation', async () => {
    const other = await createOrganization(database.db, 'Other');
    const stranger = await createOrganization(database.db, 'Stranger');
    const userId = await createUser(database.db, { email: 'multi@example.org', organizationId: orgId, role: 'analyst' });
    await withUnscoped(database.db, (tx) => tx.insert(memberships).values({ organizationId: other, userId, role: 'editor' }));
    const inOther = await signIn(t.app, 'multi@example.org', TEST_PASSWORD, other);
    expect(inOther.body).toMatchObject({ organizationId: other, role: 'editor' });
    expect((inOther.body.organizations as unknown[]).length).toBe(2);
    const notMine = await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'multi@example.org', password: TEST_PASSWORD, organizationId: stranger } });
    expect(notMine.statusCode).toBe(403);
    const switched = await t.app.inject({ method: 'POST', url: '/api/v1/auth/organization', headers: inOther.headers, payload: { organizationId: orgId } });
    expect(switched.statusCode).toBe(200);
    expect(switched.json()).toMatchObject({ organizationId: orgId, role: 'analyst' });
    expect(sessionCookieOf(switched)).not.toBe(inOther.cookie.split('=')[1]);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: inOther.cookie } })).statusCode).toBe(401);
    const after = signedInFrom(switched);
    const toStranger = await t.app.inject({ method: 'POST', url: '/api/v1/auth/organization', headers: after.headers, payload: { organizationId: stranger } });
    expect(toStranger.statusCode).toBe(404);
  });

  it('ends idle and expired sessions', async () => {
    const s = await signIn(t.app, 'ada@example.org');
    const token = s.cookie.split('=')[1]!;
    await withUnscoped(database.db, (tx) => tx.update(sessions).set({ idleExpiresAt: new Date(Date.now() - 1000) }).where(eq(sessions.tokenHash, hashToken(token))));
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: s.cookie } })).statusCode).toBe(401);
    const s2 = await signIn(t.app, 'ada@example.org');
    const token2 = s2.cookie.split('=')[1]!;
    await withUnscoped(database.db, (tx) => tx.update(sessions).set({ absoluteExpiresAt: new Date(Date.now() - 1000) }).where(eq(sessions.tokenHash, hashToken(token2))));
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: s2.cookie } })).statusCode).toBe(401);
  });
});
