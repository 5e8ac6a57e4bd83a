import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { type TestApp, useTestApp } from '../../../test/support/app.ts';
import { type TestDatabase } from '../../../test/support/db.ts';
import { createOrganization, createUser, enrolTotpDirectly, signIn, signInWithMfa, type SignedIn } from '../../../test/support/identity.ts';
import { memberships, totpFactors } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';

/**
 * Review finding: an administrator of one organisation could wipe the factors and end the sessions
 * of someone who administers another organisation (or runs the platform).
 */
describe('MFA reset stays inside the organisation', () => {
  let database: TestDatabase;
  let t: TestApp;
  let orgA: string;
  let orgB: string;
  let adminOfA: SignedIn;

  const membershipIn = async (organizationId: string, userId: string) =>
    (await withUnscoped(database.db, (tx) => tx.select().from(memberships).where(and(eq(memberships.userId, userId), eq(memberships.organizationId, organizationId)))))[0]!.id;
  const join = (organizationId: string, userId: string, role: 'admin' | 'editor' | 'owner') => withUnscoped(database.db, (tx) => tx.insert(memberships).values({ organizationId, userId, role }));
  const reset = async (userId: string) => t.app.inject({ method: 'POST', url: `/api/v1/members/${await membershipIn(orgA, userId)}/mfa-reset`, headers: adminOfA.headers });
  const factorsOf = async (userId: string) => (await withUnscoped(database.db, (tx) => tx.select().from(totpFactors).where(eq(totpFactors.userId, userId)))).length;

  useTestApp(async (context) => {
    ({ database, t } = context);
    orgA = await createOrganization(database.db, 'Alpha');
    orgB = await createOrganization(database.db, 'Beta');
    const adminId = await createUser(database.db, { email: 'admin@alpha.example', organizationId: orgA, role: 'admin' });
    adminOfA = await signInWithMfa(t.app, database.db, t.config, adminId, 'admin@alpha.example');
  });

  it('refuses when the person administers another organisation, and changes nothing', async () => {
    const userId = await createUser(database.db, { email: 'boss@beta.example', organizationId: orgA, role: 'editor' });
    await join(orgB, userId, 'owner');
    await enrolTotpDirectly(database.db, t.config, userId);
    const inB = await signIn(t.app, 'boss@beta.example', undefined, orgB);
    const refused = await reset(userId);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().errors[0].message).toMatch(/^privileged_elsewhere/);
    expect(await factorsOf(userId)).toBe(1);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: inB.cookie } })).statusCode).toBe(200);
  });

  it('refuses for a platform operator', async () => {
    const userId = await createUser(database.db, { email: 'ops@savoir.example', operator: true, organizationId: orgA, role: 'editor' });
    await enrolTotpDirectly(database.db, t.config, userId);
    const refused = await reset(userId);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().errors[0].message).toMatch(/^privileged_elsewhere/);
    expect(await factorsOf(userId)).toBe(1);
  });

  it('for an ordinary member elsewhere: resets, ending only this organisation’s sessions', async () => {
    const userId = await createUser(database.db, { email: 'writer@example.org', organizationId: orgA, role: 'editor' });
    await join(orgB, userId, 'editor');
    await enrolTotpDirectly(database.db, t.config, userId);
    const inA = await signIn(t.app, 'writer@example.org', undefined, orgA);
    const inB = await signIn(t.app, 'writer@example.org', undefined, orgB);
    expect((await reset(userId)).statusCode).toBe(204);
    expect(await factorsOf(userId)).toBe(0);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: inA.cookie } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: inB.cookie } })).statusCode).toBe(200);
  });
});
