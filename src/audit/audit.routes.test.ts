import { parse } from 'csv-parse/sync';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../test/support/app.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import type { Role } from '../access/permissions.ts';
import { organizations } from '../db/schema/index.ts';
import { withTenant, withUnscoped } from '../db/tenancy.ts';
import type { Principal } from '../http/route-access.ts';
import { recordAuditEvent, type AuditEventInput } from './audit.service.ts';
import { verifyAuditChains } from './verify.ts';

/** Tests say who calls in a header; the real authenticators (sessions, API keys) come with identity. */
async function headerAuthenticator(request: FastifyRequest): Promise<Principal | undefined> {
  const header = request.headers['x-test-principal'];
  return typeof header === 'string' ? (JSON.parse(header) as Principal) : undefined;
}

describe('audit event routes', () => {
  let database: TestDatabase;
  let testApp: TestApp;
  let app: FastifyInstance;
  let orgA: string;
  let orgB: string;

  const as = (organizationId: string, role: Role, extra: Record<string, string> = {}) => ({
    'x-test-principal': JSON.stringify({ organizationId, role, ...extra }),
  });

  const record = (organizationId: string, event: Partial<AuditEventInput>) =>
    withTenant(database.db, { organizationId }, (tx) =>
      recordAuditEvent(tx, { organizationId, actorType: 'user', actorId: 'u-1', action: 'auth.login.succeeded', ...event }),
    );

  beforeAll(async () => {
    database = await createTestDatabase();
    testApp = await buildTestApp(database, { authenticators: [headerAuthenticator] });
    app = testApp.app;
    const created = await withUnscoped(database.db, (tx) =>
      tx.insert(organizations).values([{ name: 'Alpha', slug: 'alpha' }, { name: 'Beta', slug: 'beta' }]).returning(),
    );
    [orgA, orgB] = created.map((o) => o.id) as [string, string];
    for (let n = 1; n <= 7; n += 1) await record(orgA, { actorId: n % 2 ? 'u-1' : 'u-2', action: n % 3 ? 'auth.login.succeeded' : 'member.role_changed', details: { n } });
    await record(orgA, { action: 'member.renamed', targetType: 'user', targetId: '=HYPERLINK("http://evil.example","x")', details: { name: '+cmd|calc', quote: 'say "hi", then\nleave' } });
    await record(orgB, { action: 'auth.login.succeeded', details: { note: 'beta-only' } });
    await withUnscoped(database.db, (tx) => recordAuditEvent(tx, { organizationId: null, actorType: 'operator', actorId: 'op-1', action: 'organization.created', targetId: orgA }));
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  it('lists the organisation’s events newest first, page by page', async () => {
    const first = await app.inject({ method: 'GET', url: '/api/v1/audit-events?limit=3', headers: as(orgA, 'admin') });
    expect(first.statusCode).toBe(200);
    const page1 = first.json() as { events: { sequence: number; organizationId: string }[]; nextCursor: string };
    expect(page1.events.map((e) => e.sequence)).toEqual([8, 7, 6]);
    expect(page1.nextCursor).toBe('6');
    const rest = await app.inject({ method: 'GET', url: `/api/v1/audit-events?limit=10&cursor=${page1.nextCursor}`, headers: as(orgA, 'owner') });
    const page2 = rest.json() as { events: { sequence: number; organizationId: string }[]; nextCursor: string | null };
    expect(page2.events.map((e) => e.sequence)).toEqual([5, 4, 3, 2, 1]);
    expect(page2.nextCursor).toBeNull();
    expect(new Set([...page1.events, ...page2.events].map((e) => e.organizationId))).toEqual(new Set([orgA]));
  });

  it('filters by action, actor and period', async () => {
    const byAction = await app.inject({ method: 'GET', url: '/api/v1/audit-events?action=member.role_changed', headers: as(orgA, 'admin') });
    expect((byAction.json() as { events: { sequence: number }[] }).events.map((e) => e.sequence)).toEqual([6, 3]);
    const byActor = await app.inject({ method: 'GET', url: '/api/v1/audit-events?actorId=u-2', headers: as(orgA, 'admin') });
    expect((byActor.json() as { events: { sequence: number }[] }).events.map((e) => e.sequence)).toEqual([6, 4, 2]);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await app.inject({ method: 'GET', url: `/api/v1/audit-events?from=${encodeURIComponent(future)}`, headers: as(orgA, 'admin') });
    expect((none.json() as { events: unknown[] }).events).toEqual([]);
    const past = await app.inject({ method: 'GET', url: `/api/v1/audit-events?to=${encodeURIComponent('2000-01-01T00:00:00Z')}`, headers: as(orgA, 'admin') });
    expect((past.json() as { events: unknown[] }).events).toEqual([]);
  });

  it('answers a clear 400 naming the field at fault', async () => {
    const badLimit = await app.inject({ method: 'GET', url: '/api/v1/audit-events?limit=0', headers: as(orgA, 'admin') });
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(badLimit.json())).toMatch(/limit/);
    const badFormat = await app.inject({ method: 'GET', url: '/api/v1/audit-events/export?format=xml', headers: as(orgA, 'admin') });
    expect(badFormat.statusCode).toBe(400);
    expect(JSON.stringify(badFormat.json())).toMatch(/format/);
    const reversed = await app.inject({ method: 'GET', url: '/api/v1/audit-events?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', headers: as(orgA, 'admin') });
    expect(reversed.statusCode).toBe(400);
    expect(JSON.stringify(reversed.json())).toMatch(/query\.from/);
  });

  it('is for owners and admins only, and needs a principal', async () => {
    for (const role of ['editor', 'analyst', 'member', 'operator'] as const) {
      expect((await app.inject({ method: 'GET', url: '/api/v1/audit-events', headers: as(orgA, role) })).statusCode).toBe(403);
      expect((await app.inject({ method: 'GET', url: '/api/v1/audit-events/export?format=csv', headers: as(orgA, role) })).statusCode).toBe(403);
    }
    expect((await app.inject({ method: 'GET', url: '/api/v1/audit-events' })).statusCode).toBe(401);
  });

  it('exports JSON Lines, oldest first, and records the export in the log', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/audit-events/export?format=jsonl', headers: as(orgB, 'owner', { userId: 'owner-b' }) });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/jsonl/);
    expect(response.headers['content-disposition']).toMatch(/attachment; filename="audit-events-.*\.jsonl"/);
    const lines = response.body.trimEnd().split('\n').map((line) => JSON.parse(line) as { sequence: number; organizationId: string; details: unknown; hash: string });
    expect(lines.map((l) => l.sequence)).toEqual([1]);
    expect(lines[0]).toMatchObject({ organizationId: orgB, details: { note: 'beta-only' } });
    const after = await app.inject({ method: 'GET', url: '/api/v1/audit-events?action=audit.exported', headers: as(orgB, 'admin') });
    expect((after.json() as { events: unknown[] }).events).toEqual([
      expect.objectContaining({ actorType: 'user', actorId: 'owner-b', action: 'audit.exported', details: { format: 'jsonl', eventCount: 1, filters: {} }, requestId: expect.any(String) }),
    ]);
    expect((await verifyAuditChains(database.db)).every((c) => c.ok)).toBe(true);
  });

  it('exports CSV that a spreadsheet reads back exactly, without running formulas', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/audit-events/export?format=csv&action=member.renamed', headers: as(orgA, 'admin') });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parse(response.body, { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row?.targetId).toBe('\'=HYPERLINK("http://evil.example","x")');
    expect(row?.organizationId).toBe(orgA);
    expect(JSON.parse(row!.details!)).toEqual({ name: '+cmd|calc', quote: 'say "hi", then\nleave' });
    // No cell starts with a formula character once parsed.
    for (const value of Object.values(row!)) expect(value).not.toMatch(/^[=+\-@\t\r]/);
  });

  it('shows platform events to operators only', async () => {
    const operator = await app.inject({ method: 'GET', url: '/api/v1/platform/audit-events', headers: as(orgA, 'operator') });
    expect(operator.statusCode).toBe(200);
    // Key-ring events (the first data key, created when the app starts) are platform events too.
    const events = (operator.json() as { events: { action: string; organizationId: null }[] }).events;
    expect(events.filter((e) => !e.action.startsWith('keys.'))).toEqual([expect.objectContaining({ action: 'organization.created', organizationId: null })]);
    expect(events).toContainEqual(expect.objectContaining({ action: 'keys.data_key_created', organizationId: null }));
    expect((await app.inject({ method: 'GET', url: '/api/v1/platform/audit-events', headers: as(orgA, 'owner') })).statusCode).toBe(403);
    const tenantView = await app.inject({ method: 'GET', url: '/api/v1/audit-events?action=organization.created', headers: as(orgA, 'owner') });
    expect((tenantView.json() as { events: unknown[] }).events).toEqual([]);
  });

  it('describes the routes in the OpenAPI document', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/api/v1/audit-events', '/api/v1/audit-events/export', '/api/v1/platform/audit-events']));
  });
});
