import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testEngine, type TestDatabase } from '../../test/support/db.ts';
import { queryRows, type AppDb } from '../db/client.ts';
import { auditEvents, organizations } from '../db/schema/index.ts';
import { withTenant, withUnscoped } from '../db/tenancy.ts';
import { recordAuditEvent, type AuditEventInput } from './audit.service.ts';
import { GENESIS_HASH } from './chain.ts';
import { formatAuditVerification } from '../cli/audit-verify.ts';
import { verifyAuditChains } from './verify.ts';

describe('hash-chained, append-only audit log', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.close());

  async function newOrganization(slug: string): Promise<string> {
    const [org] = await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: slug, slug }).returning());
    return org!.id;
  }

  const event = (organizationId: string | null, n: number, extra: Partial<AuditEventInput> = {}): AuditEventInput => ({
    organizationId,
    actorType: organizationId ? 'user' : 'operator',
    actorId: `actor-${n % 3}`,
    action: n % 2 ? 'auth.login.succeeded' : 'member.role_changed',
    targetType: 'user',
    targetId: `user-${n}`,
    ip: '203.0.113.7',
    requestId: `req-${n}`,
    details: { n, note: `event ${n}` },
    ...extra,
  });

  async function recordMany(organizationId: string | null, count: number): Promise<{ id: string; hash: string }[]> {
    const written: { id: string; hash: string }[] = [];
    for (let n = 1; n <= count; n += 1) {
      written.push(
        organizationId
          ? await withTenant(database.db, { organizationId }, (tx) => recordAuditEvent(tx, event(organizationId, n)))
          : await withUnscoped(database.db, (tx) => recordAuditEvent(tx, event(null, n))),
      );
    }
    return written;
  }

  const chainOf = (organizationId: string | null) =>
    withUnscoped(database.db, (tx) =>
      tx
        .select()
        .from(auditEvents)
        .where(organizationId ? sql`${auditEvents.organizationId} = ${organizationId}` : sql`${auditEvents.organizationId} is null`)
        .orderBy(auditEvents.sequence),
    );

  /** What a superuser can do and the application cannot: change history with the trigger off. */
  async function tamper(statement: ReturnType<typeof sql>): Promise<void> {
    await database.withOwnerConnection((owner: AppDb) =>
      owner.transaction(async (tx) => {
        await tx.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
        await tx.execute(statement);
        await tx.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
      }),
    );
  }

  const verificationOf = async (organizationId: string | null) => (await verifyAuditChains(database.db)).find((c) => c.organizationId === organizationId);

  it('links each event to the previous one of its chain, one chain per organisation and one for the platform', async () => {
    const orgId = await newOrganization('chain-a');
    const written = await recordMany(orgId, 4);
    await recordMany(null, 2);
    const rows = await chainOf(orgId);
    expect(rows.map((r) => r.sequence)).toEqual([1, 2, 3, 4]);
    expect(rows[0]?.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < rows.length; i += 1) expect(rows[i]?.prevHash).toBe(rows[i - 1]?.hash);
    expect(rows.map((r) => r.hash)).toEqual(written.map((w) => w.hash));
    expect(rows[1]).toMatchObject({ actorType: 'user', actorId: 'actor-2', action: 'member.role_changed', outcome: 'success', details: { n: 2, note: 'event 2' } });
    const platform = await chainOf(null);
    expect(platform.map((r) => r.sequence)).toEqual([1, 2]);
    expect(await verificationOf(orgId)).toMatchObject({ ok: true, events: 4, head: { sequence: 4, hash: written[3]?.hash } });
    expect(await verificationOf(null)).toMatchObject({ ok: true, events: 2 });
  });

  it('stores details as they read back, so awkward values still verify', async () => {
    const orgId = await newOrganization('awkward');
    await withTenant(database.db, { organizationId: orgId }, (tx) =>
      recordAuditEvent(tx, event(orgId, 1, { details: { when: new Date('2026-01-02T03:04:05.678Z'), gone: undefined, nul: 'a\u0000b', big: 2 ** 64, zero: -0, nested: { z: 1, a: [1, 'é', null] } } })),
    );
    const [row] = await chainOf(orgId);
    expect(row?.details).toEqual({ when: '2026-01-02T03:04:05.678Z', nul: 'a\uFFFDb', big: 2 ** 64, zero: 0, nested: { z: 1, a: [1, 'é', null] } });
    expect(await verificationOf(orgId)).toMatchObject({ ok: true });
  });

  it('never stores a secret passed in details by mistake', async () => {
    const orgId = await newOrganization('no-secrets');
    await withTenant(database.db, { organizationId: orgId }, (tx) =>
      recordAuditEvent(tx, event(orgId, 1, { details: { password: 'hunter2-hunter2', nested: { apiKey: 'sk-live-123', Token: 'tok-1', tokenId: 'kept' } } })),
    );
    const [row] = await chainOf(orgId);
    expect(row?.details).toEqual({ password: '[redacted]', nested: { apiKey: '[redacted]', Token: '[redacted]', tokenId: 'kept' } });
    expect(await verificationOf(orgId)).toMatchObject({ ok: true });
  });

  it('keeps each organisation’s events to itself and platform events out of every organisation', async () => {
    const orgA = await newOrganization('sees-own-a');
    const orgB = await newOrganization('sees-own-b');
    await recordMany(orgA, 2);
    await recordMany(orgB, 1);
    await recordMany(null, 1);
    const seenByB = await withTenant(database.db, { organizationId: orgB }, (tx) => tx.select().from(auditEvents));
    expect(seenByB.map((r) => r.organizationId)).toEqual([orgB]);
    // An organisation cannot write into another's chain, nor into the platform's.
    await expect(withTenant(database.db, { organizationId: orgB }, (tx) => recordAuditEvent(tx, event(orgA, 9)))).rejects.toThrow();
    await expect(withTenant(database.db, { organizationId: orgB }, (tx) => recordAuditEvent(tx, event(null, 9)))).rejects.toThrow();
  });

  it('refuses UPDATE, DELETE and TRUNCATE, to the application role and to the table owner alike', async () => {
    const orgId = await newOrganization('append-only');
    await recordMany(orgId, 2);
    const refusal = /append-only|permission denied/;
    await expect(withTenant(database.db, { organizationId: orgId }, (tx) => tx.execute(sql`update audit_events set action = 'x'`))).rejects.toSatisfy(causeMatches(/permission denied/));
    await expect(withTenant(database.db, { organizationId: orgId }, (tx) => tx.execute(sql`delete from audit_events`))).rejects.toSatisfy(causeMatches(/permission denied/));
    await expect(withUnscoped(database.db, (tx) => tx.execute(sql`update audit_events set action = 'x'`))).rejects.toSatisfy(causeMatches(/append-only: UPDATE refused/));
    await expect(withUnscoped(database.db, (tx) => tx.execute(sql`delete from audit_events`))).rejects.toSatisfy(causeMatches(/append-only: DELETE refused/));
    await expect(
      database.withOwnerConnection((owner: AppDb) => owner.execute(sql`truncate audit_events`)),
    ).rejects.toSatisfy(causeMatches(refusal));
    expect(await chainOf(orgId)).toHaveLength(2);
  });

  it('names the event whose details a superuser changed', async () => {
    const orgId = await newOrganization('tampered-detail');
    await recordMany(orgId, 5);
    const [, , third] = await chainOf(orgId);
    await tamper(sql`update audit_events set details = '{"n": 3, "note": "nothing happened"}'::jsonb where id = ${third!.id}`);
    expect(await verificationOf(orgId)).toMatchObject({ ok: false, events: 5, firstBroken: { id: third!.id, sequence: 3, reason: expect.stringMatching(/hash mismatch/) } });
    // Other chains are unaffected.
    const chains = await verifyAuditChains(database.db);
    expect(chains.filter((c) => !c.ok).map((c) => c.organizationId)).toEqual([orgId]);
    // What `savoir audit verify` prints.
    const report = formatAuditVerification(chains);
    expect(report).toContain(`BROKEN  organisation ${orgId}: first broken event ${third!.id} (#3): hash mismatch`);
    expect(report).toMatch(/^OK {6}platform: \d+ events, head #\d+ [0-9a-f]{64}$/m);
  });

  it('names the event after one a superuser changed and re-hashed', async () => {
    const orgId = await newOrganization('tampered-rehashed');
    await recordMany(orgId, 4);
    const [, second, third] = await chainOf(orgId);
    await tamper(sql`update audit_events set actor_id = 'someone-else', hash = ${'f'.repeat(64)} where id = ${second!.id}`);
    const verification = await verificationOf(orgId);
    expect(verification?.firstBroken).toMatchObject({ id: second!.id, sequence: 2, reason: expect.stringMatching(/hash mismatch/) });
    // With the hash recomputed correctly the row itself would pass, but its successor no longer links to it.
    const { auditEventHash } = await import('./chain.ts');
    const rehashed = auditEventHash(second!.prevHash, { ...second!, actorId: 'someone-else', occurredAt: second!.occurredAt.toISOString() });
    await tamper(sql`update audit_events set hash = ${rehashed} where id = ${second!.id}`);
    expect((await verificationOf(orgId))?.firstBroken).toMatchObject({ id: third!.id, sequence: 3, reason: expect.stringMatching(/prev_hash/) });
  });

  it('detects an event deleted from the middle of a chain', async () => {
    const orgId = await newOrganization('tampered-delete');
    await recordMany(orgId, 5);
    const [, , third, fourth] = await chainOf(orgId);
    await tamper(sql`delete from audit_events where id = ${third!.id}`);
    expect(await verificationOf(orgId)).toMatchObject({
      ok: false,
      events: 4,
      firstBroken: { id: fourth!.id, sequence: 4, reason: expect.stringMatching(/sequence gap: expected 3, found 4/) },
    });
  });

  it('keeps one unbroken chain when many transactions write at once', async () => {
    const orgId = await newOrganization('concurrent');
    // PostgreSQL: two independent pools racing; PGlite has one connection and serialises them.
    const other = testEngine() === 'postgres' ? await database.openAnother() : undefined;
    try {
      const writers = Array.from({ length: 40 }, (_, n) => {
        const db = other && n % 2 ? other.db : database.db;
        return n % 4 === 3
          ? withUnscoped(db, (tx) => recordAuditEvent(tx, event(null, n)))
          : withTenant(db, { organizationId: orgId }, async (tx) => {
              const written = await recordAuditEvent(tx, event(orgId, n));
              // Work after the event keeps the chain locked a while, inviting the race.
              await tx.execute(sql`select pg_sleep(0.005)`);
              return written;
            });
      });
      await Promise.all(writers);
    } finally {
      await other?.close();
    }
    const rows = await chainOf(orgId);
    expect(rows.map((r) => r.sequence)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(await verificationOf(orgId)).toMatchObject({ ok: true, events: 30 });
    expect((await verificationOf(null))?.ok).toBe(true);
  });

  it('answers raw SQL reads the same way (RLS) for a tenant', async () => {
    const orgId = await newOrganization('raw-read');
    await recordMany(orgId, 1);
    const rows = await withTenant(database.db, { organizationId: orgId }, (tx) => queryRows<{ n: number }>(tx, sql`select count(*)::int as n from audit_events`));
    expect(rows[0]?.n).toBe(1);
  });
});

/** Drizzle wraps driver errors; the database's own message is on the cause. */
function causeMatches(pattern: RegExp) {
  return (error: unknown): boolean => {
    const cause = (error as { cause?: { message?: string } }).cause;
    return pattern.test(cause?.message ?? String(error));
  };
}
