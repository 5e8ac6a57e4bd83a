import { and, asc, eq, inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { type TestApp, useTestApp } from '../../../test/support/app.ts';
import { type TestDatabase } from '../../../test/support/db.ts';
import { createOrganization, createUser, markMfaVerified, signInWithMfa, signedInFrom } from '../../../test/support/identity.ts';
import { auditEvents } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';

/**
 * Review finding: the support-access record was written after the handler's own transaction had
 * committed (onSend), so a crash in between left a change by an operator with no access record.
 * A record is now committed before the handler runs, and the outcome after.
 */
describe('support access is recorded before the handler runs', () => {
  let database: TestDatabase;
  let t: TestApp;

  useTestApp((context) => ({ database, t } = context));

  it('each request under a grant has a started record, earlier in the chain than the outcome', async () => {
    const orgId = await createOrganization(database.db, 'Acme');
    const ownerId = await createUser(database.db, { email: 'owner@example.org', organizationId: orgId, role: 'owner' });
    const owner = await signInWithMfa(t.app, database.db, t.config, ownerId, 'owner@example.org');
    const operatorId = await createUser(database.db, { email: 'ops@savoir.example', operator: true });
    const operator = await signInWithMfa(t.app, database.db, t.config, operatorId, 'ops@savoir.example');
    const grant = await t.app.inject({ method: 'POST', url: '/api/v1/support-grants', headers: owner.headers, payload: { scope: 'write', reason: 'Ticket 7', expiresAt: new Date(Date.now() + 3_600_000).toISOString() } });
    expect(grant.statusCode).toBe(201);
    const entered = await t.app.inject({ method: 'POST', url: '/api/v1/auth/organization', headers: operator.headers, payload: { organizationId: orgId } });
    const inside = signedInFrom(entered);
    await markMfaVerified(database.db, inside, new Date());
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/jobs/00000000-0000-4000-8000-000000000000', headers: { cookie: inside.cookie } })).statusCode).toBe(404);

    const events = await withUnscoped(database.db, (tx) =>
      tx.select().from(auditEvents).where(and(eq(auditEvents.organizationId, orgId), inArray(auditEvents.action, ['support.access.started', 'support.accessed']))).orderBy(asc(auditEvents.sequence)),
    );
    const forJobs = events.filter((e) => e.targetId === 'GET /api/v1/jobs/:jobId');
    expect(forJobs.map((e) => e.action)).toEqual(['support.access.started', 'support.accessed']);
  });
});
