import { describe, expect, it } from 'vitest';
import { type TestApp, useTestApp } from '../../../test/support/app.ts';
import { type TestDatabase } from '../../../test/support/db.ts';
import { createOrganization, createUser, signInWithMfa, type SignedIn } from '../../../test/support/identity.ts';

/** Review finding: API keys could live for ever. An expiry is now required, at most a year away. */
describe('API key expiry', () => {
  let database: TestDatabase;
  let t: TestApp;
  let owner: SignedIn;
  const day = 86_400_000;

  useTestApp(async (context) => {
    ({ database, t } = context);
    const orgId = await createOrganization(database.db, 'Acme');
    const ownerId = await createUser(database.db, { email: 'owner@example.org', organizationId: orgId, role: 'owner' });
    owner = await signInWithMfa(t.app, database.db, t.config, ownerId, 'owner@example.org');
  });

  const create = (expiresAt?: string) => t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: owner.headers, payload: { name: 'k', permissions: ['members:read'], ...(expiresAt ? { expiresAt } : {}) } });

  it('refuses a key without an expiry, naming body.expiresAt', async () => {
    const missing = await create();
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors.map((e: { field: string }) => e.field)).toContain('body.expiresAt');
  });

  it('refuses an expiry more than a year away, naming body.expiresAt', async () => {
    const tooFar = await create(new Date(Date.now() + 367 * day).toISOString());
    expect(tooFar.statusCode).toBe(400);
    expect(tooFar.json().errors[0]).toMatchObject({ field: 'body.expiresAt' });
  });

  it('accepts an expiry within a year', async () => {
    const ok = await create(new Date(Date.now() + 364 * day).toISOString());
    expect(ok.statusCode).toBe(201);
    expect(ok.json().expiresAt).not.toBeNull();
  });
});
