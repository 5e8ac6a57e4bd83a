import { useTestApp, type TestApp } from './app.ts';
import type { TestDatabase } from './db.ts';
import { and, desc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Secret } from 'otpauth';
import type { Config } from '../../src/config/load.ts';
import { KeyRing } from '../../src/crypto/key-ring.ts';
import { loadMasterKeys } from '../../src/crypto/master-key.ts';
import { totpSecretAad } from '../../src/auth/mfa/totp.service.ts';
import { hashToken } from '../../src/auth/tokens.ts';
import type { AppDb } from '../../src/db/client.ts';
import { emailOutbox, memberships, organizations, sessions, totpFactors, users } from '../../src/db/schema/index.ts';
import { withUnscoped } from '../../src/db/tenancy.ts';
import { hashPassword } from '../../src/auth/passwords/password-hash.ts';
import { SESSION_COOKIE } from '../../src/auth/sessions/session-cookie.ts';
import type { OrganizationRole } from '../../src/access/permissions.ts';

export const TEST_PASSWORD = 'correct horse battery staple 42';

export async function createOrganization(db: AppDb, name: string): Promise<string> {
  const slug = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${Math.random().toString(36).slice(2, 8)}`;
  const [row] = await withUnscoped(db, (tx) => tx.insert(organizations).values({ name, slug }).returning());
  return row!.id;
}

export async function createUser(
  db: AppDb,
  options: { email: string; password?: string; passwordHash?: string; operator?: boolean; organizationId?: string; role?: OrganizationRole },
): Promise<string> {
  const passwordHash = options.passwordHash ?? (await hashPassword(options.password ?? TEST_PASSWORD));
  return withUnscoped(db, async (tx) => {
    const [user] = await tx.insert(users).values({ email: options.email, passwordHash, isPlatformOperator: options.operator ?? false }).returning();
    if (options.organizationId) await tx.insert(memberships).values({ organizationId: options.organizationId, userId: user!.id, role: options.role ?? 'member' });
    return user!.id;
  });
}

export interface SignedIn {
  cookie: string;
  csrfToken: string;
  headers: { cookie: string; 'x-csrf-token': string };
  body: Record<string, unknown>;
}

/** The cookie value from a response that set the session cookie. */
export function sessionCookieOf(response: { cookies: { name: string; value: string }[] }): string | undefined {
  return response.cookies.find((c) => c.name === SESSION_COOKIE)?.value;
}

export async function signIn(app: FastifyInstance, email: string, password = TEST_PASSWORD, organizationId?: string): Promise<SignedIn> {
  const response = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password, ...(organizationId ? { organizationId } : {}) } });
  if (response.statusCode !== 200) throw new Error(`sign-in of ${email} failed: ${response.statusCode} ${response.body}`);
  return signedInFrom(response);
}

export function signedInFrom(response: { cookies: { name: string; value: string }[]; json(): unknown }): SignedIn {
  const token = sessionCookieOf(response);
  if (!token) throw new Error('no session cookie set');
  const body = response.json() as Record<string, unknown>;
  const cookie = `${SESSION_COOKIE}=${token}`;
  const csrfToken = String(body.csrfToken);
  return { cookie, csrfToken, headers: { cookie, 'x-csrf-token': csrfToken }, body };
}

/** A confirmed TOTP factor for a user (sealed by the key ring under the app's master key); returns its base32 secret. */
export async function enrolTotpDirectly(db: AppDb, config: Config, userId: string): Promise<string> {
  const secret = new Secret({ size: 20 }).base32;
  const ring = await KeyRing.open(db, loadMasterKeys(config));
  const secretSealed = await ring.seal(secret, totpSecretAad(userId));
  await withUnscoped(db, (tx) =>
    tx.insert(totpFactors).values({ userId, secretSealed, confirmedAt: new Date() }).onConflictDoNothing(),
  );
  return secret;
}

/**
 * Signs in a user who has (or is given) a second factor and marks the session's factor as just
 * proven, as the TOTP route would (the MFA tests exercise the real route).
 */
export async function signInWithMfa(app: FastifyInstance, db: AppDb, config: Config, userId: string, email: string, organizationId?: string): Promise<SignedIn> {
  await enrolTotpDirectly(db, config, userId);
  const signed = await signIn(app, email, TEST_PASSWORD, organizationId);
  await markMfaVerified(db, signed, new Date());
  return signed;
}

export async function markMfaVerified(db: AppDb, signed: SignedIn, at: Date): Promise<void> {
  const token = signed.cookie.slice(signed.cookie.indexOf('=') + 1);
  await withUnscoped(db, (tx) => tx.update(sessions).set({ mfaVerifiedAt: at }).where(eq(sessions.tokenHash, hashToken(token))));
}

/** The variables of the last e-mail queued to an address (links carry one-time tokens). */
export async function lastEmailTo(db: AppDb, to: string, template: string): Promise<Record<string, string>> {
  const rows = await withUnscoped(db, (tx) =>
    tx.select().from(emailOutbox).where(and(eq(emailOutbox.toAddress, to), eq(emailOutbox.template, template as never))).orderBy(desc(emailOutbox.createdAt)).limit(1),
  );
  if (!rows[0]?.variables) throw new Error(`no ${template} e-mail queued to ${to}`);
  return rows[0].variables;
}

export function tokenFromLink(link: string): string {
  return link.slice(link.indexOf('#token=') + '#token='.length);
}

export interface OrganizationTestContext {
  database: TestDatabase;
  t: TestApp;
  orgId: string;
}

/**
 * For a test file: a fresh database, the real app and one organisation ("Acme"), closed after the
 * file. `receive` is called once they exist (assign them to the file's variables).
 */
export function useOrganizationTestApp(receive: (context: OrganizationTestContext) => void): void {
  useTestApp(async ({ database, t }) => receive({ database, t, orgId: await createOrganization(database.db, 'Acme') }));
}
