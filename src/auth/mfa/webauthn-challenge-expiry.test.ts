import { afterEach, describe, expect, it, vi } from 'vitest';
import { type TestApp, useTestApp } from '../../../test/support/app.ts';
import { type TestDatabase } from '../../../test/support/db.ts';
import { createOrganization, createUser, signIn } from '../../../test/support/identity.ts';
import { SoftAuthenticator } from '../../../test/support/soft-authenticator.ts';
import { WEBAUTHN_CHALLENGE_TTL_MS } from './webauthn.service.ts';

/** Review finding: a WebAuthn challenge stayed valid for as long as the session lived. */
describe('WebAuthn challenges expire', () => {
  let database: TestDatabase;
  let t: TestApp;
  let orgId: string;

  useTestApp(async (context) => {
    ({ database, t } = context);
    orgId = await createOrganization(database.db, 'Acme');
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function registerAfter(email: string, delayMs: number) {
    await createUser(database.db, { email, organizationId: orgId, role: 'admin' });
    const s = await signIn(t.app, email);
    const options = (await t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/registration/options', headers: s.headers })).json();
    // Only the clock of this process moves (the database's does not): the challenge's age is judged by the app.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + delayMs });
    return t.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/passkeys/registration/verify', headers: s.headers, payload: { name: 'Laptop', response: new SoftAuthenticator('localhost', 'https://localhost:8443').register(options) } });
  }

  it('an answer to a challenge older than five minutes is refused', async () => {
    expect(WEBAUTHN_CHALLENGE_TTL_MS).toBe(5 * 60_000);
    expect((await registerAfter('late@example.org', WEBAUTHN_CHALLENGE_TTL_MS + 60_000)).statusCode).toBe(401);
  });

  it('an answer within five minutes is accepted', async () => {
    expect((await registerAfter('prompt@example.org', WEBAUTHN_CHALLENGE_TTL_MS - 60_000)).statusCode).toBe(200);
  });
});
