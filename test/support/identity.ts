import type { FastifyInstance } from 'fastify';
import type { AppDb } from '../../src/db/client.ts';
import { memberships, organizations, users } from '../../src/db/schema/index.ts';
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
