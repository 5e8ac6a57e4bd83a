// Audit log cost: what hash-chaining adds to an audited transaction, how writers of one chain
// compare with writers of separate chains (PostgreSQL), and how fast `savoir audit verify` reads.
//   npx tsx bench/audit.bench.ts                       embedded PGlite in a temporary folder
//   DATABASE_URL=postgres://… npx tsx bench/audit.bench.ts   a scratch database on that server (created, then dropped)
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { recordAuditEvent } from '../src/audit/audit.service.ts';
import { verifyAuditChains } from '../src/audit/verify.ts';
import { openPglite, openPostgres, type Database } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';
import { auditEvents, organizations } from '../src/db/schema/index.ts';
import { withTenant, withUnscoped } from '../src/db/tenancy.ts';
import { percentile } from './support/stats.ts';

const SEQUENTIAL_EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 1000);
const WRITERS = 8;
const EVENTS_PER_WRITER = 150;

const ms = (value: number) => `${value.toFixed(2)} ms`;

async function adminQuery(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function openScratch(): Promise<{ database: Database; label: string; cleanup: () => Promise<void> }> {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl) {
    const name = `savoir_bench_${randomBytes(4).toString('hex')}`;
    await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const database = await openPostgres(url.toString(), WRITERS + 2);
    return { database, label: 'PostgreSQL', cleanup: async () => { await database.close(); await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); } };
  }
  const root = mkdtempSync(path.join(tmpdir(), 'savoir-bench-audit-'));
  const database = await openPglite(path.join(root, 'pglite'));
  return { database, label: 'PGlite', cleanup: async () => { await database.close(); rmSync(root, { recursive: true, force: true }); } };
}

const details = { sessionId: 'b3c0e6d2-2f0f-4d1e-9d4c-2f8f3b1c9a11', method: 'password', rehashed: false };

async function main(): Promise<void> {
  const { database, label, cleanup } = await openScratch();
  try {
    await runMigrations(database);
    const db = database.db;
    const orgs = await withUnscoped(db, (tx) =>
      tx.insert(organizations).values(Array.from({ length: WRITERS + 2 }, (_, i) => ({ name: `Bench ${i}`, slug: `bench-${i}` }))).returning(),
    );
    const [baselineOrg, chainedOrg, ...writerOrgs] = orgs.map((o) => o.id) as [string, string, ...string[]];
    console.log(`Audit log on ${label}, ${SEQUENTIAL_EVENTS} events one transaction each`);

    // Baseline: the same row inserted in the same kind of transaction, without lock, head read or hash.
    const baseline: number[] = [];
    for (let n = 1; n <= SEQUENTIAL_EVENTS; n += 1) {
      const started = performance.now();
      await withTenant(db, { organizationId: baselineOrg }, (tx) =>
        tx.insert(auditEvents).values({
          id: randomUUID(), organizationId: baselineOrg, sequence: n, occurredAt: new Date(), actorType: 'user', actorId: 'u-1',
          action: 'auth.login.succeeded', outcome: 'success', ip: '203.0.113.7', requestId: `r-${n}`, details, prevHash: '0'.repeat(64), hash: 'f'.repeat(64),
        }),
      );
      baseline.push(performance.now() - started);
    }
    const chained: number[] = [];
    for (let n = 1; n <= SEQUENTIAL_EVENTS; n += 1) {
      const started = performance.now();
      await withTenant(db, { organizationId: chainedOrg }, (tx) =>
        recordAuditEvent(tx, { organizationId: chainedOrg, actorType: 'user', actorId: 'u-1', action: 'auth.login.succeeded', ip: '203.0.113.7', requestId: `r-${n}`, details }),
      );
      chained.push(performance.now() - started);
    }
    const [b50, c50] = [percentile(baseline, 50), percentile(chained, 50)];
    console.log(`  plain insert (baseline)   p50 ${ms(b50)}  p95 ${ms(percentile(baseline, 95))}`);
    console.log(`  recordAuditEvent          p50 ${ms(c50)}  p95 ${ms(percentile(chained, 95))}  (x${(c50 / b50).toFixed(2)} the baseline, +${ms(c50 - b50)} per audited transaction)`);

    if (database.kind === 'postgres') {
      // Writers of one chain wait for each other (advisory lock until commit); separate chains do not.
      const run = async (chainOf: (writer: number) => string) => {
        const started = performance.now();
        await Promise.all(
          Array.from({ length: WRITERS }, async (_, writer) => {
            const organizationId = chainOf(writer);
            for (let n = 0; n < EVENTS_PER_WRITER; n += 1) {
              await withTenant(db, { organizationId }, (tx) => recordAuditEvent(tx, { organizationId, actorType: 'system', actorId: null, action: 'bench.event', details: { writer, n } }));
            }
          }),
        );
        return (WRITERS * EVENTS_PER_WRITER) / ((performance.now() - started) / 1000);
      };
      const sharedChain = await run(() => writerOrgs[0]!);
      const separateChains = await run((writer) => writerOrgs[writer]!);
      console.log(`  ${WRITERS} concurrent writers, one chain        ${sharedChain.toFixed(0)} events/s`);
      console.log(`  ${WRITERS} concurrent writers, ${WRITERS} chains       ${separateChains.toFixed(0)} events/s  (x${(separateChains / sharedChain).toFixed(2)})`);
    }

    // A first pass warms the caches and counts; the second is timed.
    const totalEvents = (await verifyAuditChains(db)).reduce((sum, chain) => sum + chain.events, 0);
    const verifyStarted = performance.now();
    const chains = await verifyAuditChains(db);
    const verifyMs = performance.now() - verifyStarted;
    const broken = chains.filter((c) => !c.ok).map((c) => c.organizationId);
    console.log(`  verify ${totalEvents} events in ${chains.length} chains: ${ms(verifyMs)} (${((totalEvents / verifyMs) * 1000).toFixed(0)} events/s); broken: ${broken.length === 1 && broken[0] === baselineOrg ? 'only the unchained baseline, as expected' : JSON.stringify(broken)}`);
  } finally {
    await cleanup();
  }
}

await main();
