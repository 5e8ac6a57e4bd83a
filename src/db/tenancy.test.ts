import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testEngine, type TestDatabase } from '../../test/support/db.ts';
import { queryRows } from './client.ts';
import { jobs, organizations } from './schema/index.ts';
import { withTenant, withUnscoped } from './tenancy.ts';

describe('row-level security backstop', () => {
  let database: TestDatabase;
  let orgA: string;
  let orgB: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const created = await withUnscoped(database.db, (tx) =>
      tx.insert(organizations).values([{ name: 'Alpha', slug: 'alpha' }, { name: 'Beta', slug: 'beta' }]).returning(),
    );
    [orgA, orgB] = created.map((o) => o.id) as [string, string];
    await withUnscoped(database.db, (tx) =>
      tx.insert(jobs).values([
        { organizationId: orgA, kind: 'demo', payload: { n: 1 } },
        { organizationId: orgA, kind: 'demo', payload: { n: 2 } },
        { organizationId: orgB, kind: 'demo', payload: { n: 3 } },
        { organizationId: null, kind: 'platform', payload: {} },
      ]),
    );
  });
  afterAll(() => database.close());

  it('a query that forgets its organisation filter still sees only its own rows', async () => {
    const seenByA = await withTenant(database.db, { organizationId: orgA }, (tx) => tx.select().from(jobs));
    expect(seenByA.map((j) => j.organizationId)).toEqual([orgA, orgA]);
    const orgsSeenByB = await withTenant(database.db, { organizationId: orgB }, (tx) => tx.select().from(organizations));
    expect(orgsSeenByB.map((o) => o.slug)).toEqual(['beta']);
  });

  it('raw SQL is held by the same policy', async () => {
    const rows = await withTenant(database.db, { organizationId: orgB }, (tx) => queryRows<{ n: number }>(tx, sql`select count(*)::int as n from jobs`));
    expect(rows[0]?.n).toBe(1);
  });

  it('refuses to write a row for another organisation', async () => {
    await expect(
      withTenant(database.db, { organizationId: orgA }, (tx) => tx.insert(jobs).values({ organizationId: orgB, kind: 'demo' })),
    ).rejects.toSatisfy(violatesRowLevelSecurity);
    await expect(
      withTenant(database.db, { organizationId: orgA }, (tx) => tx.update(jobs).set({ organizationId: orgB }).returning()),
    ).rejects.toSatisfy(violatesRowLevelSecurity);
  });

  it('cannot update or delete another organisation’s rows even without a filter', async () => {
    const deleted = await withTenant(database.db, { organizationId: orgA }, (tx) => tx.delete(jobs).where(eq(jobs.organizationId, orgB)).returning());
    expect(deleted).toHaveLength(0);
    const stillThere = await withUnscoped(database.db, (tx) => tx.select().from(jobs).where(eq(jobs.organizationId, orgB)));
    expect(stillThere).toHaveLength(1);
    const touched = await withTenant(database.db, { organizationId: orgB }, (tx) => tx.update(jobs).set({ attempts: 7 }).returning());
    expect(touched.map((j) => j.organizationId)).toEqual([orgB]);
    const all = await withUnscoped(database.db, (tx) => tx.select().from(jobs));
    expect(all.filter((j) => j.attempts === 7).map((j) => j.organizationId)).toEqual([orgB]);
  });

  it('outside any tenant transaction, the application role sees no client rows', async () => {
    const rows = await database.db.select().from(jobs);
    expect(rows).toHaveLength(0);
    const current = await queryRows<{ role: string }>(database.db, sql`select current_user as role`);
    expect(current[0]?.role).toBe('savoir_app');
  });

  it('platform work cannot alter tables or switch off the audit log’s protection', async () => {
    await expect(withUnscoped(database.db, (tx) => tx.execute(sql`alter table audit_events disable trigger all`))).rejects.toSatisfy(
      (error: unknown) => /must be owner/.test((error as { cause?: { message?: string } }).cause?.message ?? ''),
    );
  });

  it.runIf(testEngine() === 'postgres')('the application login owns nothing: leaving its roles leaves it no access', async () => {
    await expect(
      withTenant(database.db, { organizationId: orgA }, async (tx) => {
        await tx.execute(sql`set local role none`);
        return tx.select().from(jobs);
      }),
    ).rejects.toSatisfy((error: unknown) => /permission denied/.test((error as { cause?: { message?: string } }).cause?.message ?? ''));
  });

  it('unscoped work (the job runner, operators) sees every organisation', async () => {
    const rows = await withUnscoped(database.db, (tx) => tx.select().from(jobs));
    expect(rows).toHaveLength(4);
  });
});

/** Drizzle wraps driver errors; the database's own message is on the cause. */
function violatesRowLevelSecurity(error: unknown): boolean {
  const cause = (error as { cause?: { message?: string } }).cause;
  return /row-level security/.test(cause?.message ?? String(error));
}
