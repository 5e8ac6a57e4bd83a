import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp, useTestApp } from '../../../test/support/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/support/db.ts';
import { createOrganization, createUser, lastEmailTo, markMfaVerified, signIn, signInWithMfa, signedInFrom, tokenFromLink, TEST_PASSWORD, type SignedIn } from '../../../test/support/identity.ts';
import { apiKeys, auditEvents, memberships } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { createSetupLinkIfNoOperatorUnscoped } from '../platform/bootstrap.service.ts';

const inADay = () => new Date(Date.now() + 86_400_000).toISOString();

describe('joiners and leavers', () => {
  let database: TestDatabase;
  let t: TestApp;
  let orgId: string;
  let owner: SignedIn;
  let operator: SignedIn;
  let operatorId: string;

  const membershipOf = async (userId: string) =>
    (await withUnscoped(database.db, (tx) => tx.select().from(memberships).where(and(eq(memberships.userId, userId), eq(memberships.organizationId, orgId)))))[0]!.id;

  async function adminWithKey(email: string, permissions: string[] = ['members:read']) {
    const userId = await createUser(database.db, { email, organizationId: orgId, role: 'admin' });
    const session = await signInWithMfa(t.app, database.db, t.config, userId, email);
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: session.headers, payload: { name: `${email} key`, permissions, expiresAt: inADay() } });
    expect(created.statusCode).toBe(201);
    return { userId, session, key: created.json().key as string, keyId: created.json().id as string };
  }

  const me = (s: SignedIn) => t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: s.cookie } });
  const withKey = (key: string, url = '/api/v1/members') => t.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

  useTestApp(async (context) => {
    ({ database, t } = context);
    orgId = await createOrganization(database.db, 'Acme');
    const ownerId = await createUser(database.db, { email: 'owner@example.org', organizationId: orgId, role: 'owner' });
    owner = await signInWithMfa(t.app, database.db, t.config, ownerId, 'owner@example.org');
    operatorId = await createUser(database.db, { email: 'ops@savoir.example', operator: true });
    operator = await signInWithMfa(t.app, database.db, t.config, operatorId, 'ops@savoir.example');
  });

  it('invites by e-mail; the invitee sets an acceptable password, once; revoked invitations fail', async () => {
    const invited = await t.app.inject({ method: 'POST', url: '/api/v1/invitations', headers: owner.headers, payload: { email: 'new@example.org', role: 'admin' } });
    expect(invited.statusCode).toBe(201);
    expect(JSON.stringify(invited.json())).not.toMatch(/token/i);
    const token = tokenFromLink((await lastEmailTo(database.db, 'new@example.org', 'invitation')).link!);
    const weak = await t.app.inject({ method: 'POST', url: '/api/v1/auth/invitations/accept', payload: { token, password: 'qwerty123456' } });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().errors[0].field).toBe('body.password');
    const short = await t.app.inject({ method: 'POST', url: '/api/v1/auth/invitations/accept', payload: { token, password: 'short pass' } });
    expect(short.statusCode).toBe(400);
    const accepted = await t.app.inject({ method: 'POST', url: '/api/v1/auth/invitations/accept', payload: { token, password: TEST_PASSWORD } });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json()).toMatchObject({ role: 'admin', next: 'mfa-enrolment' });
    const again = await t.app.inject({ method: 'POST', url: '/api/v1/auth/invitations/accept', payload: { token, password: TEST_PASSWORD } });
    expect(again.statusCode).toBe(400);

    const second = await t.app.inject({ method: 'POST', url: '/api/v1/invitations', headers: owner.headers, payload: { email: 'late@example.org', role: 'member' } });
    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/v1/invitations/${second.json().id}`, headers: owner.headers });
    expect(revoke.statusCode).toBe(204);
    const lateToken = tokenFromLink((await lastEmailTo(database.db, 'late@example.org', 'invitation')).link!);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/invitations/accept', payload: { token: lateToken, password: TEST_PASSWORD } })).statusCode).toBe(400);
  });

  it('only an owner makes an owner; the last owner stays', async () => {
    const { session } = await adminWithKey('admin1@example.org');
    const asAdmin = await t.app.inject({ method: 'POST', url: '/api/v1/invitations', headers: session.headers, payload: { email: 'boss@example.org', role: 'owner' } });
    expect(asAdmin.statusCode).toBe(403);
    const ownerMembership = await membershipOf((await me(owner)).json().userId);
    const demoteSelf = await t.app.inject({ method: 'PATCH', url: `/api/v1/members/${ownerMembership}`, headers: owner.headers, payload: { role: 'admin' } });
    expect(demoteSelf.statusCode).toBe(409);
  });

  it('API keys: secret shown once, stored hashed, scoped, never beyond the matrix; step-up needed to create one', async () => {
    const { session, key, keyId } = await adminWithKey('keys@example.org', ['members:read']);
    expect(key).toMatch(/^sk_[0-9a-f]{12}_/);
    const [row] = await withUnscoped(database.db, (tx) => tx.select().from(apiKeys).where(eq(apiKeys.id, keyId)));
    expect(JSON.stringify(row)).not.toContain(key.split('_')[2]);
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: { cookie: session.cookie } });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(key);
    expect((await withKey(key)).statusCode).toBe(200);
    expect((await withKey(key, '/api/v1/api-keys')).statusCode).toBe(403);
    expect(list.json().apiKeys.find((k: { id: string }) => k.id === keyId).lastUsedAt).toBeNull();

    const tooMuch = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: session.headers, payload: { name: 'x', permissions: ['api-keys:create'], expiresAt: inADay() } });
    expect(tooMuch.statusCode).toBe(400);
    const operatorOnly = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: session.headers, payload: { name: 'x', permissions: ['organizations:create'], expiresAt: inADay() } });
    expect(operatorOnly.statusCode).toBe(400);

    await markMfaVerified(database.db, session, new Date(Date.now() - 11 * 60_000));
    const stale = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: session.headers, payload: { name: 'y', permissions: ['members:read'], expiresAt: inADay() } });
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe('step_up_required');

    // An API key cannot do a step-up action whatever it carries.
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { authorization: `Bearer ${key}` }, payload: { name: 'z', permissions: ['members:read'], expiresAt: inADay() } })).statusCode).toBe(403);
  });

  it('a revoked or expired key fails on the next request', async () => {
    const { session, key, keyId } = await adminWithKey('revoker@example.org');
    expect((await withKey(key)).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${keyId}`, headers: session.headers })).statusCode).toBe(204);
    expect((await withKey(key)).statusCode).toBe(401);

    const second = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: session.headers, payload: { name: 'short-lived', permissions: ['members:read'], expiresAt: new Date(Date.now() + 60_000).toISOString() } });
    const key2 = second.json().key as string;
    expect((await withKey(key2)).statusCode).toBe(200);
    await withUnscoped(database.db, (tx) => tx.update(apiKeys).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(apiKeys.id, second.json().id)));
    expect((await withKey(key2)).statusCode).toBe(401);
  });

  it('leaver by removal: the old cookie and the old API key fail on the very next request', async () => {
    const leaver = await adminWithKey('leaver@example.org');
    expect((await me(leaver.session)).statusCode).toBe(200);
    expect((await withKey(leaver.key)).statusCode).toBe(200);
    const removed = await t.app.inject({ method: 'DELETE', url: `/api/v1/members/${await membershipOf(leaver.userId)}`, headers: owner.headers });
    expect(removed.statusCode).toBe(204);
    expect((await me(leaver.session)).statusCode).toBe(401);
    expect((await withKey(leaver.key)).statusCode).toBe(401);
  });

  it('leaver by deactivation: cookie, API key and password all fail at once', async () => {
    const leaver = await adminWithKey('deactivated@example.org');
    const done = await t.app.inject({ method: 'POST', url: `/api/v1/platform/users/${leaver.userId}/deactivate`, headers: operator.headers });
    expect(done.statusCode).toBe(204);
    expect((await me(leaver.session)).statusCode).toBe(401);
    expect((await withKey(leaver.key)).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'deactivated@example.org', password: TEST_PASSWORD } })).statusCode).toBe(401);
    const events = await withUnscoped(database.db, (tx) => tx.select().from(auditEvents).where(eq(auditEvents.action, 'user.deactivated')));
    expect(events).toHaveLength(1);
  });

  it('a demoted creator takes their key down with them (the key never exceeds its creator’s role)', async () => {
    const demoted = await adminWithKey('demoted@example.org');
    const changed = await t.app.inject({ method: 'PATCH', url: `/api/v1/members/${await membershipOf(demoted.userId)}`, headers: owner.headers, payload: { role: 'editor' } });
    expect(changed.statusCode).toBe(204);
    expect((await withKey(demoted.key)).statusCode).toBe(403);
    // A privilege change ends the person's sessions: a new sign-in gives a new session id.
    expect((await me(demoted.session)).statusCode).toBe(401);
    const back = await signIn(t.app, 'demoted@example.org');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/members', headers: { cookie: back.cookie } })).statusCode).toBe(403);
  });

  it('MFA reset of someone else needs a recent second factor, ends their sessions', async () => {
    const target = await adminWithKey('lostphone@example.org');
    await markMfaVerified(database.db, owner, new Date(Date.now() - 11 * 60_000));
    const stale = await t.app.inject({ method: 'POST', url: `/api/v1/members/${await membershipOf(target.userId)}/mfa-reset`, headers: owner.headers });
    expect(stale.json().code).toBe('step_up_required');
    await markMfaVerified(database.db, owner, new Date());
    const reset = await t.app.inject({ method: 'POST', url: `/api/v1/members/${await membershipOf(target.userId)}/mfa-reset`, headers: owner.headers });
    expect(reset.statusCode).toBe(204);
    expect((await me(target.session)).statusCode).toBe(401);
    const back = await signIn(t.app, 'lostphone@example.org');
    expect(back.body.next).toBe('mfa-enrolment');
    expect(await lastEmailTo(database.db, 'lostphone@example.org', 'mfa-reset')).toHaveProperty('link');
  });

  it('support access: none without a grant; audited under one; ends when revoked', async () => {
    const enter = () => t.app.inject({ method: 'POST', url: '/api/v1/auth/organization', headers: operator.headers, payload: { organizationId: orgId } });
    expect((await enter()).statusCode).toBe(404);
    const grant = await t.app.inject({ method: 'POST', url: '/api/v1/support-grants', headers: owner.headers, payload: { scope: 'read', reason: 'Ticket 42: indexing stuck', expiresAt: new Date(Date.now() + 3_600_000).toISOString() } });
    expect(grant.statusCode).toBe(201);
    const entered = await enter();
    expect(entered.statusCode).toBe(200);
    const inside = signedInFrom(entered);
    await markMfaVerified(database.db, inside, new Date());
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/jobs/00000000-0000-4000-8000-000000000000', headers: { cookie: inside.cookie } })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/members', headers: { cookie: inside.cookie } })).statusCode).toBe(403);
    const audited = await withUnscoped(database.db, (tx) => tx.select().from(auditEvents).where(and(eq(auditEvents.action, 'support.accessed'), eq(auditEvents.organizationId, orgId))));
    expect(audited.length).toBeGreaterThanOrEqual(2);
    const visible = await t.app.inject({ method: 'GET', url: '/api/v1/support-grants', headers: { cookie: owner.cookie } });
    expect(visible.json().grants[0]).toMatchObject({ active: true, scope: 'read' });
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/support-grants/${grant.json().id}`, headers: owner.headers })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: inside.cookie } })).statusCode).toBe(401);
  });

  it('password reset: same answer for unknown e-mails, single use, ends sessions', async () => {
    const userId = await createUser(database.db, { email: 'forgetful@example.org', organizationId: orgId, role: 'analyst' });
    expect(userId).toBeTruthy();
    const before = await signIn(t.app, 'forgetful@example.org');
    const known = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/request', payload: { email: 'forgetful@example.org' } });
    const unknown = await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/request', payload: { email: 'stranger@example.org' } });
    expect(known.statusCode).toBe(202);
    expect(unknown.statusCode).toBe(202);
    expect(unknown.body).toBe(known.body);
    const token = tokenFromLink((await lastEmailTo(database.db, 'forgetful@example.org', 'password-reset')).link!);
    const newPassword = 'a brand new passphrase 7';
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token, password: newPassword } })).statusCode).toBe(204);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token, password: 'another new passphrase 8' } })).statusCode).toBe(400);
    expect((await me(before)).statusCode).toBe(401);
    await signIn(t.app, 'forgetful@example.org', newPassword);
  });

  it('an operator creates an organisation and invites its first owner, who must enrol MFA', async () => {
    // The support test moved the operator's session into the client organisation (and rotated it).
    operator = await signInWithMfa(t.app, database.db, t.config, operatorId, 'ops@savoir.example');
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/platform/organizations', headers: operator.headers, payload: { name: 'Beta Corp', slug: 'beta-corp', ownerEmail: 'founder@beta.example' } });
    expect(created.statusCode).toBe(201);
    const token = tokenFromLink((await lastEmailTo(database.db, 'founder@beta.example', 'invitation')).link!);
    const accepted = await t.app.inject({ method: 'POST', url: '/api/v1/auth/invitations/accept', payload: { token, password: TEST_PASSWORD } });
    expect(accepted.json()).toMatchObject({ organizationId: created.json().id, role: 'owner', next: 'mfa-enrolment' });
    // The operator sees organisation names, not client content.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/platform/organizations', headers: { cookie: operator.cookie } })).json().organizations).toHaveLength(2);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/members', headers: { cookie: operator.cookie } })).statusCode).toBe(403);
  });

  it('bootstrap: no setup link once an operator exists', async () => {
    expect(await createSetupLinkIfNoOperatorUnscoped(database.db, t.config)).toBeUndefined();
    expect(operatorId).toBeTruthy();
  });
});

describe('bootstrap of the first platform operator', () => {
  it('a one-time link creates the first operator, who must enrol MFA; it works once', async () => {
    const database = await createTestDatabase();
    const t = await buildTestApp(database);
    try {
      const setup = await createSetupLinkIfNoOperatorUnscoped(database.db, t.config);
      expect(setup!.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(30 * 60_000);
      const token = tokenFromLink(setup!.link);
      const done = await t.app.inject({ method: 'POST', url: '/api/v1/auth/setup', payload: { token, email: 'first@savoir.example', password: TEST_PASSWORD } });
      expect(done.statusCode).toBe(200);
      expect(done.json()).toMatchObject({ operator: true, role: 'operator', next: 'mfa-enrolment' });
      const s = signedInFrom(done);
      const blocked = await t.app.inject({ method: 'GET', url: '/api/v1/platform/organizations', headers: { cookie: s.cookie } });
      expect(blocked.json().code).toBe('mfa_enrolment_required');
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/auth/setup', payload: { token, email: 'second@savoir.example', password: TEST_PASSWORD } })).statusCode).toBe(400);
    } finally {
      await t.app.close();
      await database.close();
    }
  });
});
