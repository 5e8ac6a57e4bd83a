import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testConfig } from '../../test/support/app.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { rotateDataKeyCommand, rotateMasterKeyCommand } from '../cli/keys.ts';
import { queryRows } from '../db/client.ts';
import { withUnscoped } from '../db/tenancy.ts';
import { masterKeyFingerprint } from './aead.ts';
import { KeyRing } from './key-ring.ts';
import { generateMasterKeyText, loadMasterKeys } from './master-key.ts';
import { RESEAL_JOB_KIND } from './reseal.ts';

interface AuditRow {
  action: string;
  actor_type: string;
  target_id: string | null;
  details: Record<string, unknown> | null;
}

describe('key operations are audited on the platform chain, and data keys are created once', () => {
  let database: TestDatabase;
  const dir = mkdtempSync(path.join(tmpdir(), 'savoir-key-audit-'));
  const files = { a: path.join(dir, 'a.key'), b: path.join(dir, 'b.key') };
  const platformEvents = () =>
    withUnscoped(database.db, (tx) => queryRows<AuditRow>(tx, sql`select action, actor_type, target_id, details from audit_events where organization_id is null order by occurred_at, id`));
  const dataKeyIds = () => withUnscoped(database.db, (tx) => queryRows<{ id: string; retired: boolean }>(tx, sql`select id::text as id, retired_at is not null as retired from data_keys order by created_at`));

  beforeAll(async () => {
    database = await createTestDatabase();
    writeFileSync(files.a, `${generateMasterKeyText()}\n`);
    writeFileSync(files.b, `${generateMasterKeyText()}\n`);
  });
  afterAll(() => database.close());

  it('two processes starting together on a new database create one data key, audited once', async () => {
    const keys = loadMasterKeys(testConfig({ SAVOIR_MASTER_KEY_FILE: files.a }));
    const [one, two] = [KeyRing.deferred(database.db, keys), KeyRing.deferred(database.db, keys)];
    await Promise.all([one.ready(), two.ready()]);
    const rows = await dataKeyIds();
    expect(rows).toHaveLength(1);
    expect(one.activeDataKeyId).toBe(two.activeDataKeyId);
    const created = (await platformEvents()).filter((e) => e.action === 'keys.data_key_created');
    expect(created).toEqual([expect.objectContaining({ actor_type: 'system', target_id: rows[0]?.id })]);
  });

  it('`keys rotate` and `keys rotate-data-key` each leave a platform audit event; the re-seal job is queued with the rotation', async () => {
    const config = testConfig({ SAVOIR_MASTER_KEY_FILE: files.b, SAVOIR_MASTER_KEY_PREVIOUS_FILE: files.a });
    await rotateMasterKeyCommand(config, {}, database);
    const [newMaster] = loadMasterKeys(config);
    expect((await platformEvents()).at(-1)).toMatchObject({ action: 'keys.master_key_rotated', actor_type: 'operator', details: { rewrapped: 1, masterKeyId: masterKeyFingerprint(newMaster as Buffer) } });

    await rotateDataKeyCommand(config, database);
    const rows = await dataKeyIds();
    const active = rows.filter((r) => !r.retired);
    expect(active).toHaveLength(1);
    expect((await platformEvents()).at(-1)).toMatchObject({ action: 'keys.data_key_rotated', actor_type: 'operator', target_id: active[0]?.id });
    const jobs = await withUnscoped(database.db, (tx) => queryRows<{ kind: string; idempotency_key: string }>(tx, sql`select kind, idempotency_key from jobs`));
    expect(jobs).toEqual([expect.objectContaining({ kind: RESEAL_JOB_KIND, idempotency_key: `reseal:${active[0]?.id}` })]);
    // Nothing secret in the events.
    expect(JSON.stringify(await platformEvents())).not.toMatch(/wk1\.|sv1\./);
  });

  it('data keys cannot be deleted, even by the platform role', async () => {
    const error = await withUnscoped(database.db, (tx) => tx.execute(sql`delete from data_keys`)).then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: Error },
    );
    expect(String(error?.cause?.message ?? error?.message)).toMatch(/permission denied/);
  });
});
