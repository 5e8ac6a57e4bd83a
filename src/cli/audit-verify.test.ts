import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { describe, expect, inject, it } from 'vitest';
import { createTestDatabase } from '../../test/support/db.ts';
import { recordAuditEvent } from '../audit/audit.service.ts';
import { openPglite, type AppDb, type Database } from '../db/client.ts';
import { withUnscoped } from '../db/tenancy.ts';

const run = promisify(execFile);
const projectRoot = path.resolve(import.meta.dirname, '../..');

/** `savoir audit verify` as an operator runs it, in its own process, on the suite's engine. */
async function auditVerify(env: Record<string, string>): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/main.ts', 'audit', 'verify'], {
      cwd: projectRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '' };
  }
}

/** A database the CLI can open too: a PGlite data folder of our own (one process at a time), or the PostgreSQL test database. */
async function openCliDatabase(): Promise<{ database: Database; env: Record<string, string>; reopen: () => Promise<Database>; dispose: () => Promise<void> }> {
  const target = inject('testDatabase');
  if (target.kind === 'pglite') {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'savoir-cli-audit-'));
    cpSync(target.templateDir, path.join(dataDir, 'pglite'), { recursive: true });
    return {
      database: await openPglite(path.join(dataDir, 'pglite')),
      env: { SAVOIR_DATA_DIR: dataDir },
      reopen: () => openPglite(path.join(dataDir, 'pglite')),
      dispose: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const database = await createTestDatabase();
  return {
    database,
    env: { SAVOIR_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'savoir-cli-audit-')), DATABASE_URL: database.url! },
    reopen: () => database.openAnother(),
    dispose: () => database.close(),
  };
}

describe('savoir audit verify', () => {
  it('prints OK per chain, then names the first broken event and exits 1 after tampering', async () => {
    const cli = await openCliDatabase();
    let database = cli.database;
    try {
      const ids: string[] = [];
      for (let n = 1; n <= 3; n += 1) {
        ids.push((await withUnscoped(database.db, (tx) => recordAuditEvent(tx, { organizationId: null, actorType: 'operator', actorId: 'op-1', action: 'organization.created', details: { n } }))).id);
      }
      // PGlite allows one process at a time: close while the CLI runs.
      if (database.kind === 'pglite') await database.close();
      const clean = await auditVerify(cli.env);
      expect(clean.code).toBe(0);
      expect(clean.stdout).toMatch(/^OK {6}platform: 3 events, head #3 [0-9a-f]{64}$/m);

      if (database.kind === 'pglite') database = await cli.reopen();
      await database.withOwnerConnection((owner: AppDb) =>
        owner.transaction(async (tx) => {
          await tx.execute(sql`alter table audit_events disable trigger audit_events_append_only`);
          await tx.execute(sql`update audit_events set actor_id = 'nobody' where id = ${ids[1]!}`);
          await tx.execute(sql`alter table audit_events enable trigger audit_events_append_only`);
        }),
      );
      if (database.kind === 'pglite') await database.close();
      const broken = await auditVerify(cli.env);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toContain(`BROKEN  platform: first broken event ${ids[1]} (#2): hash mismatch`);
    } finally {
      if (database.kind === 'pglite') await database.close().catch(() => undefined);
      await cli.dispose();
    }
  });
});
