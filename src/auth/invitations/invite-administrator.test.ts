import { describe, expect, it } from 'vitest';
import { type TestApp, useTestApp } from '../../../test/support/app.ts';
import { type TestDatabase } from '../../../test/support/db.ts';
import { createOrganization, createUser, markMfaVerified, signInWithMfa, type SignedIn } from '../../../test/support/identity.ts';

/**
 * Review finding: administrators (and owners) could be created by invitation without step-up,
 * even with an API key. Inviting with an administrator role now needs a recent second factor.
 */
describe('inviting an administrator', () => {
  let database: TestDatabase;
  let t: TestApp;
  let orgId: string;
  let owner: SignedIn;
  let key: string;

  const invite = (headers: Record<string, string>, email: string, role: string) => t.app.inject({ method: 'POST', url: '/api/v1/invitations', headers, payload: { email, role } });

  useTestApp(async (context) => {
    ({ database, t } = context);
    orgId = await createOrganization(database.db, 'Acme');
    const ownerId = await createUser(database.db, { email: 'owner@example.org', organizationId: orgId, role: 'owner' });
    owner = await signInWithMfa(t.app, database.db, t.config, ownerId, 'owner@example.org');
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: owner.headers, payload: { name: 'hr sync', permissions: ['members:invite'], expiresAt: new Date(Date.now() + 86_400_000).toISOString() } });
    expect(created.statusCode).toBe(201);
    key = created.json().key as string;
  });

  it('an API key cannot invite an admin or an owner, only lesser roles', async () => {
    const bearer = { authorization: `Bearer ${key}` };
    const admin = await invite(bearer, 'admin-by-key@example.org', 'admin');
    expect(admin.statusCode).toBe(403);
    expect((await invite(bearer, 'owner-by-key@example.org', 'owner')).statusCode).toBe(403);
    expect((await invite(bearer, 'editor-by-key@example.org', 'editor')).statusCode).toBe(201);
  });

  it('a session with a stale second factor must step up to invite an admin', async () => {
    await markMfaVerified(database.db, owner, new Date(Date.now() - 11 * 60_000));
    const stale = await invite(owner.headers, 'admin-stale@example.org', 'admin');
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe('step_up_required');
    expect((await invite(owner.headers, 'owner-stale@example.org', 'owner')).json().code).toBe('step_up_required');
    expect((await invite(owner.headers, 'analyst-stale@example.org', 'analyst')).statusCode).toBe(201);
    await markMfaVerified(database.db, owner, new Date());
    expect((await invite(owner.headers, 'admin-fresh@example.org', 'admin')).statusCode).toBe(201);
  });

  it('an API key cannot be given the permission to invite administrators', async () => {
    await markMfaVerified(database.db, owner, new Date());
    const refused = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: owner.headers, payload: { name: 'x', permissions: ['members:invite-administrator'], expiresAt: new Date(Date.now() + 86_400_000).toISOString() } });
    expect(refused.statusCode).toBe(400);
  });
});
