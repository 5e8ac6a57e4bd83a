import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { type TestApp, useTestApp } from '../../../test/support/app.ts';
import { type TestDatabase } from '../../../test/support/db.ts';
import { createOrganization, createUser, lastEmailTo, signInWithMfa, tokenFromLink, TEST_PASSWORD, type SignedIn } from '../../../test/support/identity.ts';
import { invitations, memberships, users } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';

/**
 * Review finding: a leaver kept a way back in through the invitations they had sent (to an address
 * they control). Their pending invitations end with them, and an invitation is accepted only while
 * its inviter could still invite that role.
 */
describe('invitations sent by a leaver', () => {
  let database: TestDatabase;
  let t: TestApp;
  let orgId: string;
  let owner: SignedIn;
  let operator: SignedIn;

  const membershipOf = async (userId: string) =>
    (await withUnscoped(database.db, (tx) => tx.select().from(memberships).where(and(eq(memberships.userId, userId), eq(memberships.organizationId, orgId)))))[0]!.id;
  const accept = async (email: string) => {
    const token = tokenFromLink((await lastEmailTo(database.db, email, 'invitation')).link!);
    return t.app.inject({ method: 'POST', url: '/api/v1/auth/invitations/accept', payload: { token, password: TEST_PASSWORD } });
  };
  async function adminWhoInvites(adminEmail: string, inviteeEmail: string, role = 'editor') {
    const userId = await createUser(database.db, { email: adminEmail, organizationId: orgId, role: 'admin' });
    const session = await signInWithMfa(t.app, database.db, t.config, userId, adminEmail);
    const invited = await t.app.inject({ method: 'POST', url: '/api/v1/invitations', headers: session.headers, payload: { email: inviteeEmail, role } });
    expect(invited.statusCode).toBe(201);
    return { userId, invitationId: invited.json().id as string };
  }

  useTestApp(async (context) => {
    ({ database, t } = context);
    orgId = await createOrganization(database.db, 'Acme');
    const ownerId = await createUser(database.db, { email: 'owner@example.org', organizationId: orgId, role: 'owner' });
    owner = await signInWithMfa(t.app, database.db, t.config, ownerId, 'owner@example.org');
    const operatorId = await createUser(database.db, { email: 'ops@savoir.example', operator: true });
    operator = await signInWithMfa(t.app, database.db, t.config, operatorId, 'ops@savoir.example');
  });

  it('removal revokes the leaver’s pending invitations in the same change', async () => {
    const leaver = await adminWhoInvites('leaver@example.org', 'accomplice@example.org');
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/members/${await membershipOf(leaver.userId)}`, headers: owner.headers })).statusCode).toBe(204);
    const [row] = await withUnscoped(database.db, (tx) => tx.select().from(invitations).where(eq(invitations.id, leaver.invitationId)));
    expect(row!.revokedAt).not.toBeNull();
    expect((await accept('accomplice@example.org')).statusCode).toBe(400);
  });

  it('deactivation revokes the leaver’s pending invitations', async () => {
    const leaver = await adminWhoInvites('gone@example.org', 'friend@example.org');
    expect((await t.app.inject({ method: 'POST', url: `/api/v1/platform/users/${leaver.userId}/deactivate`, headers: operator.headers })).statusCode).toBe(204);
    const [row] = await withUnscoped(database.db, (tx) => tx.select().from(invitations).where(eq(invitations.id, leaver.invitationId)));
    expect(row!.revokedAt).not.toBeNull();
    expect((await accept('friend@example.org')).statusCode).toBe(400);
  });

  it('acceptance re-checks the inviter: a demoted inviter’s invitation to a higher role fails', async () => {
    const inviter = await adminWhoInvites('demoted@example.org', 'newadmin@example.org', 'admin');
    expect((await t.app.inject({ method: 'PATCH', url: `/api/v1/members/${await membershipOf(inviter.userId)}`, headers: owner.headers, payload: { role: 'editor' } })).statusCode).toBe(204);
    const refused = await accept('newadmin@example.org');
    expect(refused.statusCode).toBe(400);
    expect(refused.json().errors[0].field).toBe('body.token');
    const joined = await withUnscoped(database.db, (tx) => tx.select().from(memberships).innerJoin(users, eq(users.id, memberships.userId)).where(eq(users.email, 'newadmin@example.org')));
    expect(joined).toHaveLength(0);
  });

  it('an invitation from an administrator still in place is accepted', async () => {
    await adminWhoInvites('stays@example.org', 'welcome@example.org');
    expect((await accept('welcome@example.org')).statusCode).toBe(200);
  });

  it('an invitation sent with an API key is vouched for by the key’s creator, and dies with them', async () => {
    const userId = await createUser(database.db, { email: 'keyholder@example.org', organizationId: orgId, role: 'admin' });
    const session = await signInWithMfa(t.app, database.db, t.config, userId, 'keyholder@example.org');
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: session.headers, payload: { name: 'hr sync', permissions: ['members:invite'], expiresAt: new Date(Date.now() + 86_400_000).toISOString() } });
    const key = created.json().key as string;
    const invite = (email: string) => t.app.inject({ method: 'POST', url: '/api/v1/invitations', headers: { authorization: `Bearer ${key}` }, payload: { email, role: 'member' } });
    expect((await invite('bykey@example.org')).statusCode).toBe(201);
    expect((await accept('bykey@example.org')).statusCode).toBe(200);
    expect((await invite('bykey2@example.org')).statusCode).toBe(201);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/members/${await membershipOf(userId)}`, headers: owner.headers })).statusCode).toBe(204);
    expect((await accept('bykey2@example.org')).statusCode).toBe(400);
  });
});
