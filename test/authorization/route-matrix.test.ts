import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizationRoles, permissions, roleHasPermission, type Permission, type Role } from '../../src/access/permissions.ts';
import { csrfTokenFor, SESSION_COOKIE } from '../../src/auth/sessions/session-cookie.ts';
import { startSession } from '../../src/auth/sessions/session.service.ts';
import { apiKeys, invitations, jobs, memberships, supportGrants } from '../../src/db/schema/index.ts';
import { withUnscoped } from '../../src/db/tenancy.ts';
import { declaredRoutes, installRouteAccess, type DeclaredRoute } from '../../src/http/route-access.ts';
import { buildTestApp, type TestApp, useTestApp } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { createOrganization, createUser, enrolTotpDirectly } from '../support/identity.ts';
import { newApiKey } from '../../src/auth/api-keys/api-key-format.ts';
import { hashToken } from '../../src/auth/tokens.ts';

type Caller = { name: string; role: Role; userId: string; organizationId: string | null };

describe('every route declares its access', () => {
  let t: TestApp;
  useTestApp(async (context) => {
    ({ t } = context);
    await t.app.ready();
  });

  it('every registered route has exactly one of a matrix permission or public', () => {
    const routes = declaredRoutes(t.app);
    expect(routes.length).toBeGreaterThan(30);
    const undeclared = routes.filter((r) => Number(Boolean(r.permission)) + Number(Boolean(r.public)) !== 1);
    expect(undeclared).toEqual([]);
    const unknown = routes.filter((r) => r.permission && !(r.permission in permissions));
    expect(unknown).toEqual([]);
  });

  it('a route that declares nothing stops the server from starting', async () => {
    const bare = Fastify();
    installRouteAccess(bare, []);
    expect(() => bare.get('/api/v1/forgotten', async () => 'x')).toThrow(/must declare exactly one/);
    await bare.close();
  });
});

/**
 * The route x role matrix: every route, called with a real session of every role (and of a
 * member of another organisation, and a platform operator without any grant), answers 403
 * exactly when the matrix says no; another organisation's resources answer 404.
 */
describe('route x role matrix', () => {
  let database: TestDatabase;
  let t: TestApp;
  let orgA: string;
  let orgB: string;
  const callers: Caller[] = [];
  /** Resources of organisation A, to put in the routes' path parameters. */
  const resourcesOfA: Record<string, string> = {};

  async function freshSession(caller: Caller): Promise<Record<string, string>> {
    // Earlier calls may have removed the caller's factor (DELETE /auth/mfa/totp): every call starts enrolled.
    await enrolTotpDirectly(database.db, t.config, caller.userId);
    const session = await withUnscoped(database.db, (tx) =>
      startSession(tx, t.config.sessions, { userId: caller.userId, organizationId: caller.organizationId, mfaVerifiedAt: new Date() }, { ip: '127.0.0.1', requestId: null, userAgent: 'matrix' }),
    );
    return { cookie: `${SESSION_COOKIE}=${session.token}`, 'x-csrf-token': csrfTokenFor(session.token) };
  }

  /** A throwaway member of organisation A and resources of theirs, fresh for each call (calls may delete them). */
  async function freshResourcesOfA(): Promise<Record<string, string>> {
    const suffix = Math.random().toString(36).slice(2, 10);
    const userId = await createUser(database.db, { email: `target-${suffix}@a.example`, organizationId: orgA, role: 'member', passwordHash: '$argon2id$unused' });
    return withUnscoped(database.db, async (tx) => {
      const [membership] = await tx.select().from(memberships).where(eqUser(userId));
      const key = newApiKey();
      const [apiKey] = await tx.insert(apiKeys).values({ organizationId: orgA, name: 'k', prefix: key.prefix, secretHash: key.secretHash, permissions: ['members:read'], createdBy: userId }).returning();
      const [invitation] = await tx.insert(invitations).values({ organizationId: orgA, email: `inv-${suffix}@a.example`, role: 'member', tokenHash: hashToken(suffix), expiresAt: new Date(Date.now() + 3_600_000) }).returning();
      const [grant] = await tx.insert(supportGrants).values({ organizationId: orgA, scope: 'read', reason: 'matrix', expiresAt: new Date(Date.now() + 3_600_000) }).returning();
      const session = await startSession(tx, t.config.sessions, { userId, organizationId: orgA, mfaVerifiedAt: null }, { ip: null, requestId: null, userAgent: null });
      return { membershipId: membership!.id, apiKeyId: apiKey!.id, invitationId: invitation!.id, grantId: grant!.id, sessionId: session.sessionId, userId, jobId: resourcesOfA.jobId! };
    });
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    t = await buildTestApp(database);
    await t.app.ready();
    orgA = await createOrganization(database.db, 'Org A');
    orgB = await createOrganization(database.db, 'Org B');
    for (const role of organizationRoles) {
      const userId = await createUser(database.db, { email: `${role}@a.example`, organizationId: orgA, role, passwordHash: '$argon2id$unused' });
      callers.push({ name: role, role, userId, organizationId: orgA });
    }
    const operatorId = await createUser(database.db, { email: 'operator@savoir.example', operator: true, passwordHash: '$argon2id$unused' });
    callers.push({ name: 'operator without grant', role: 'operator', userId: operatorId, organizationId: null });
    const otherId = await createUser(database.db, { email: 'admin@b.example', organizationId: orgB, role: 'admin', passwordHash: '$argon2id$unused' });
    callers.push({ name: 'admin of another organisation', role: 'admin', userId: otherId, organizationId: orgB });
    for (const caller of callers) await enrolTotpDirectly(database.db, t.config, caller.userId);
    const [job] = await withUnscoped(database.db, (tx) => tx.insert(jobs).values({ organizationId: orgA, kind: 'matrix' }).returning());
    resourcesOfA.jobId = job!.id;
  });
  afterAll(async () => {
    await t.app.close();
    await database.close();
  });

  const protectedRoutes = () => declaredRoutes(t.app).filter((r): r is DeclaredRoute & { permission: Permission } => Boolean(r.permission) && r.method !== 'HEAD');

  function fill(url: string, values: Record<string, string>): string {
    return url.replace(/:([A-Za-z]+)/g, (_, name: string) => values[name] ?? '00000000-0000-4000-8000-000000000000');
  }

  /**
   * Bodies that pass each route's validation (the others accept `{}`), so that every call reaches
   * the authorization and tenancy checks instead of stopping at a 400.
   */
  const validBodies: Record<string, (ids: Record<string, string>) => unknown> = {
    'PATCH /api/v1/members/:membershipId': () => ({ role: 'editor' }),
    'POST /api/v1/invitations': () => ({ email: `invitee-${Math.random().toString(36).slice(2, 8)}@a.example`, role: 'member' }),
    'POST /api/v1/data-sources/:id/documents': () => ({ documents: [{ key: 'matrix-note', content: 'A small note.' }] }),
    'POST /api/v1/api-keys': () => ({ name: 'matrix', permissions: ['members:read'], expiresAt: new Date(Date.now() + 86_400_000).toISOString() }),
  };
  const bodyFor = (route: DeclaredRoute, ids: Record<string, string>) => validBodies[`${route.method} ${route.url}`]?.(ids) ?? {};
  /** Routes that take another content type than JSON: the whole body and its type. */
  const multipartBoundary = 'savoir-matrix-boundary';
  const rawBodies: Record<string, { payload: string; contentType: string }> = {
    'POST /api/v1/data-sources/:id/uploads': {
      contentType: `multipart/form-data; boundary=${multipartBoundary}`,
      payload: `--${multipartBoundary}\r\nContent-Disposition: form-data; name="file"; filename="note.txt"\r\nContent-Type: text/plain\r\n\r\nA small note.\r\n--${multipartBoundary}--\r\n`,
    },
  };
  const requestBody = (route: DeclaredRoute, ids: Record<string, string>, headers: Record<string, string>) => {
    if (route.method === 'GET' || route.method === 'DELETE') return { headers };
    const raw = rawBodies[`${route.method} ${route.url}`];
    if (raw) return { headers: { ...headers, 'content-type': raw.contentType }, payload: raw.payload };
    return { headers, payload: bodyFor(route, ids) as object };
  };

  it('covers every protected route', () => {
    expect(protectedRoutes().length).toBeGreaterThan(25);
  });

  it('answers 403 exactly when the matrix refuses, for every route and every role', async () => {
    const unexpected: string[] = [];
    let calls = 0;
    for (const route of protectedRoutes()) {
      for (const caller of callers) {
        const ids = route.url.includes(':') ? await freshResourcesOfA() : {};
        const response = await t.app.inject({ method: route.method as 'GET', url: fill(route.url, ids), ...requestBody(route, ids, await freshSession(caller)) });
        calls += 1;
        const allowed = roleHasPermission(caller.role, route.permission);
        const refused = response.statusCode === 403 || response.statusCode === 401;
        const otherOrganisation = caller.organizationId === orgB;
        if (!allowed && response.statusCode !== 403) unexpected.push(`${caller.name} ${route.method} ${route.url}: ${response.statusCode}, expected 403`);
        if (allowed && refused) {
          unexpected.push(`${caller.name} ${route.method} ${route.url}: ${response.statusCode} ${response.body.slice(0, 120)}, expected allowed`);
        }
        // Another organisation's resource: as if it did not exist. Bodies are valid (validBodies), so a 400 would mean the tenancy check was never reached.
        if (allowed && otherOrganisation && route.url.includes(':') && !route.url.startsWith('/api/v1/auth/') && response.statusCode !== 404) {
          unexpected.push(`${caller.name} ${route.method} ${route.url}: ${response.statusCode}, expected 404 for another organisation's resource`);
        }
        if (allowed && otherOrganisation && route.method === 'GET' && !route.url.includes(':')) {
          for (const id of [orgA, ...Object.values(ids)]) if (response.body.includes(id)) unexpected.push(`${caller.name} GET ${route.url} shows organisation A's ${id}`);
        }
      }
    }
    expect(unexpected).toEqual([]);
    expect(calls).toBe(protectedRoutes().length * callers.length);
  });

  it("another organisation's resources answer 404 even with a body that passes validation", async () => {
    const other = callers.find((c) => c.organizationId === orgB)!;
    const ids = await freshResourcesOfA();
    const headers = await freshSession(other);
    const cases: [string, string, unknown?][] = [
      ['PATCH', `/api/v1/members/${ids.membershipId}`, { role: 'editor' }],
      ['DELETE', `/api/v1/members/${ids.membershipId}`],
      ['POST', `/api/v1/members/${ids.membershipId}/mfa-reset`],
      ['DELETE', `/api/v1/api-keys/${ids.apiKeyId}`],
      ['DELETE', `/api/v1/invitations/${ids.invitationId}`],
      ['GET', `/api/v1/jobs/${ids.jobId}`],
      ['DELETE', `/api/v1/auth/sessions/${ids.sessionId}`],
    ];
    for (const [method, url, payload] of cases) {
      const response = await t.app.inject({ method: method as 'GET', url, headers, ...(payload ? { payload: payload as object } : {}) });
      expect(`${method} ${url} ${response.statusCode}`).toBe(`${method} ${url} 404`);
    }
    // And the resources are untouched.
    const [still] = await withUnscoped(database.db, (tx) => tx.select().from(memberships).where(eqUser(ids.userId!)));
    expect(still?.role).toBe('member');
  });
});

import { eq } from 'drizzle-orm';
function eqUser(userId: string) {
  return eq(memberships.userId, userId);
}
