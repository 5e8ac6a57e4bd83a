import { and, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { type TestApp, useTestApp } from '../../../test/support/app.ts';
import { testEngine, type TestDatabase } from '../../../test/support/db.ts';
import { createOrganization, createUser, signInWithMfa } from '../../../test/support/identity.ts';
import { queryRows } from '../../db/client.ts';
import { memberships } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';

/**
 * Review finding: "keep at least one owner" counted owners without a lock, so two owners demoting
 * (or removing) each other at the same moment both saw two owners and left none. Only a real
 * server runs the two changes concurrently.
 */
describe.runIf(testEngine() === 'postgres')('the last owner under concurrent changes', () => {
  let database: TestDatabase;
  let t: TestApp;

  useTestApp((context) => ({ database, t } = context));

  const owners = async (orgId: string) => withUnscoped(database.db, (tx) => tx.select().from(memberships).where(and(eq(memberships.organizationId, orgId), eq(memberships.role, 'owner'))));

  for (const [change, method] of [['demote', 'PATCH'], ['remove', 'DELETE']] as const) {
    it(`two owners who ${change} each other at once leave one owner`, async () => {
      for (let round = 0; round < 5; round++) {
        const orgId = await createOrganization(database.db, `Race ${change} ${round}`);
        const ids = await Promise.all(['a', 'b'].map((n) => createUser(database.db, { email: `${n}-${change}-${round}@example.org`, organizationId: orgId, role: 'owner' })));
        const sessions = await Promise.all(ids.map((id, i) => signInWithMfa(t.app, database.db, t.config, id, `${['a', 'b'][i]}-${change}-${round}@example.org`)));
        const rows = await owners(orgId);
        const membershipOf = (userId: string) => rows.find((r) => r.userId === userId)!.id;
        const answers = await Promise.all([
          t.app.inject({ method, url: `/api/v1/members/${membershipOf(ids[1]!)}`, headers: sessions[0]!.headers, ...(method === 'PATCH' ? { payload: { role: 'admin' } } : {}) }),
          t.app.inject({ method, url: `/api/v1/members/${membershipOf(ids[0]!)}`, headers: sessions[1]!.headers, ...(method === 'PATCH' ? { payload: { role: 'admin' } } : {}) }),
        ]);
        expect((await owners(orgId)).length).toBe(1);
        // The loser sees the rule (409), or had already lost its own session (401/403 after being demoted or removed): never a 500.
        expect(answers.map((a) => a.statusCode).sort()).toContain(204);
        expect(answers.every((a) => a.statusCode < 500)).toBe(true);
      }
    });
  }

  it('an owner demoted while their request waits cannot then demote another owner (role re-read under the lock)', async () => {
    const orgId = await createOrganization(database.db, 'Stale actor');
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((n) => createUser(database.db, { email: `${n}-stale@example.org`, organizationId: orgId, role: 'owner' })));
    const sessionB = await signInWithMfa(t.app, database.db, t.config, b!, 'b-stale@example.org');
    const rows = await owners(orgId);
    const membershipOf = (userId: string) => rows.find((r) => r.userId === userId)!.id;
    const other = await database.openAnother();
    try {
      let answer: Promise<{ statusCode: number }> | undefined;
      await withUnscoped(other.db, async (tx) => {
        // Hold the owner rows, let B's request pass authentication and queue behind them, then demote B.
        await tx.select().from(memberships).where(and(eq(memberships.organizationId, orgId), eq(memberships.role, 'owner'))).for('update');
        answer = t.app.inject({ method: 'PATCH', url: `/api/v1/members/${membershipOf(c!)}`, headers: sessionB.headers, payload: { role: 'admin' } });
        for (let i = 0; i < 200; i++) {
          const [waiting] = await withUnscoped(database.db, (q) => queryRows<{ n: number }>(q, sql`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock'`));
          if (Number(waiting?.n) > 0) break;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        await tx.update(memberships).set({ role: 'admin' }).where(eq(memberships.id, membershipOf(b!)));
      });
      expect((await answer!).statusCode).toBe(403);
      expect((await owners(orgId)).map((o) => o.userId).sort()).toEqual([a!, c!].sort());
    } finally {
      await other.close();
    }
  });
});
