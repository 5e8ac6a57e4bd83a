import type { InjectOptions } from 'fastify';
import { TOTP, URI } from 'otpauth';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/client.ts';
import { JobRunner } from '../../src/ops/jobs/runner.ts';
import { createEmailTransport } from '../../src/providers/email/create-transport.ts';
import { registerEmailJobs } from '../../src/providers/email/deliver.ts';
import { type TestApp, useTestApp } from '../support/app.ts';
import { type TestDatabase } from '../support/db.ts';
import { createOrganization, createUser, lastEmailTo, sessionCookieOf, signedInFrom, tokenFromLink } from '../support/identity.ts';

/**
 * Runs the identity flows with secrets of their own, then searches every log line, every API
 * answer and the text of every row of every table for them. The only answers allowed to carry a
 * secret are the ones whose purpose is to show it once: TOTP enrolment (the otpauth URI), the
 * recovery codes, and the new API key. Set-Cookie carries the session token by design.
 */
describe('no secret in clear in logs, API answers or the database', () => {
  let database: TestDatabase;
  let t: TestApp;
  const answers: string[] = [];
  const secrets: Record<string, string> = {};

  useTestApp(async (context) => {
    ({ database, t } = context);
    const orgId = await createOrganization(database.db, 'Acme');
    secrets.password = 'Unique-clear-password-8f3a1c';
    await createUser(database.db, { email: 'alice@example.org', organizationId: orgId, role: 'admin', password: secrets.password });

    const inject = async (options: InjectOptions, shownOnce = false) => {
      const response = await t.app.inject(options);
      if (!shownOnce) answers.push(response.body);
      return response;
    };
    const login = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'alice@example.org', password: secrets.password } });
    secrets.firstSessionToken = sessionCookieOf(login)!;
    let s = signedInFrom(login);
    await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'alice@example.org', password: `${secrets.password}-wrong` } });

    const setup = await inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', headers: s.headers }, true);
    const totp = URI.parse(setup.json().otpauthUri) as TOTP;
    secrets.totpSecret = totp.secret.base32;
    const confirm = await inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/confirm', headers: s.headers, payload: { code: totp.generate() } }, true);
    secrets.recoveryCode = (confirm.json().recoveryCodes as string[])[3]!;
    s = signedInFrom({ cookies: confirm.cookies, json: () => confirm.json().session });
    secrets.secondSessionToken = sessionCookieOf(confirm)!;
    await inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: s.cookie } });

    const key = await inject({ method: 'POST', url: '/api/v1/api-keys', headers: s.headers, payload: { name: 'ci', permissions: ['members:read'], expiresAt: new Date(Date.now() + 86_400_000).toISOString() } }, true);
    secrets.apiKey = key.json().key;
    secrets.apiKeySecretPart = secrets.apiKey!.split('_').slice(2).join('_');
    await inject({ method: 'GET', url: '/api/v1/members', headers: { authorization: `Bearer ${secrets.apiKey}` } });
    await inject({ method: 'GET', url: '/api/v1/api-keys', headers: { cookie: s.cookie } });

    await inject({ method: 'POST', url: '/api/v1/auth/password-reset/request', payload: { email: 'alice@example.org' } });
    secrets.resetToken = tokenFromLink((await lastEmailTo(database.db, 'alice@example.org', 'password-reset')).link!);
    secrets.newPassword = 'Another-unique-password-77c0';
    await inject({ method: 'POST', url: '/api/v1/auth/password-reset/confirm', payload: { token: secrets.resetToken, password: secrets.newPassword } });
    const invited = await inject({ method: 'POST', url: '/api/v1/invitations', headers: s.headers, payload: { email: 'bob@example.org', role: 'member' } });
    expect(invited.statusCode).toBe(401); // the reset ended every session of alice
    const again = await inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'alice@example.org', password: secrets.newPassword } });
    secrets.thirdSessionToken = sessionCookieOf(again)!;

    // Deliver the queued e-mails (file transport), as the job runner does: the outbox then forgets the links.
    const runner = new JobRunner(database.db, { concurrency: 1, leaseMs: 60_000 });
    registerEmailJobs(runner, { db: database.db, transport: createEmailTransport(t.config.mail), from: { address: t.config.mail.from, name: t.config.mail.fromName } });
    await runner.drain();
  });

  async function databaseText(): Promise<string> {
    return database.withOwnerConnection(async (owner) => {
      const tables = await queryRows<{ name: string }>(owner, sql`select tablename as name from pg_tables where schemaname = 'public'`);
      const parts: string[] = [];
      for (const { name } of tables) {
        const rows = await queryRows<{ row: string }>(owner, sql`select t::text as row from ${sql.identifier(name)} t`);
        parts.push(...rows.map((r) => `${name}: ${r.row}`));
      }
      expect(tables.map((x) => x.name)).toEqual(expect.arrayContaining(['users', 'sessions', 'api_keys', 'totp_factors', 'recovery_codes', 'password_reset_tokens', 'email_outbox', 'audit_events']));
      return parts.join('\n');
    });
  }

  it('ran the flows (the secrets exist)', () => {
    expect(Object.values(secrets).every((v) => typeof v === 'string' && v.length >= 12)).toBe(true);
    expect(Object.keys(secrets)).toHaveLength(10);
  });

  it('finds none of them in the logs', () => {
    expect(t.logs.lines.length).toBeGreaterThan(10);
    for (const [name, value] of Object.entries(secrets)) expect(t.logs.text.includes(value), `${name} in logs`).toBe(false);
  });

  it('finds none of them in API answers (other than the show-once ones)', () => {
    const text = answers.join('\n');
    for (const [name, value] of Object.entries(secrets)) expect(text.includes(value), `${name} in an API answer`).toBe(false);
  });

  it('finds none of them in any table, once the e-mails are delivered', async () => {
    const text = await databaseText();
    expect(text).toContain('alice@example.org');
    const recoveryNormalised = secrets.recoveryCode!.replaceAll('-', '');
    for (const [name, value] of Object.entries({ ...secrets, recoveryNormalised })) expect(text.includes(value), `${name} in the database`).toBe(false);
  });
});
