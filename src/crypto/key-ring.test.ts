import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { testConfig } from '../../test/support/app.ts';
import { rotateDataKeyCommand, rotateMasterKeyCommand } from '../cli/keys.ts';
import { queryRows } from '../db/client.ts';
import { withUnscoped } from '../db/tenancy.ts';
import { masterKeyFingerprint } from './aead.ts';
import { KeyRing, KeyRingError, rewrapDataKeysUnscoped } from './key-ring.ts';
import { loadMasterKey, loadMasterKeys } from './master-key.ts';
import { RESEAL_JOB_KIND, resealUnderActiveKeyUnscoped, type SealedColumn } from './reseal.ts';

describe('key ring (envelope encryption)', () => {
  let database: TestDatabase;
  const masterA = randomBytes(32);
  const masterB = randomBytes(32);

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.close());

  it('seals with AES-256-GCM under a data key and opens only with the same AAD', async () => {
    const ring = await KeyRing.open(database.db, [masterA]);
    const sealed = await ring.seal('sk-very-secret', 'provider_config:1:credentials');
    expect(sealed).toMatch(/^sv1\.[0-9a-f-]{36}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('very-secret');
    expect(await ring.seal('sk-very-secret', 'x')).not.toBe(await ring.seal('sk-very-secret', 'x')); // random IV
    await expect(ring.open(sealed, 'provider_config:1:credentials')).resolves.toBe('sk-very-secret');
    // Swapped into another row, the value does not open.
    await expect(ring.open(sealed, 'provider_config:2:credentials')).rejects.toThrow(/sealed for another row/);
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[4] as string, 'base64url');
    flipped[0] = (flipped[0] as number) ^ 1;
    parts[4] = flipped.toString('base64url');
    await expect(ring.open(parts.join('.'), 'provider_config:1:credentials')).rejects.toBeInstanceOf(KeyRingError);
  });

  it('stores data keys only wrapped, named by the master key fingerprint', async () => {
    const rows = await withUnscoped(database.db, (tx) => queryRows<{ wrapped_key: string; master_key_id: string }>(tx, sql`select wrapped_key, master_key_id from data_keys`));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.master_key_id).toBe(masterKeyFingerprint(masterA));
      expect(row.wrapped_key).toMatch(/^wk1\./);
    }
  });

  it('refuses to start under a master key that wraps none of the keys', async () => {
    await expect(KeyRing.open(database.db, [masterB])).rejects.toThrow(/not the one configured/);
  });

  it('rotates the master key by re-wrapping: old secrets open under the new key, the old key no longer works', async () => {
    const before = await KeyRing.open(database.db, [masterA]);
    const sealed = await before.seal('rotate-me', 'aad:rotation');
    expect(await rewrapDataKeysUnscoped(database.db, masterA, masterB)).toMatchObject({ alreadyUnderNewKey: 0 });
    // A process started before the rotation keeps serving from memory (no downtime).
    await expect(before.open(sealed, 'aad:rotation')).resolves.toBe('rotate-me');
    const after = await KeyRing.open(database.db, [masterB]);
    await expect(after.open(sealed, 'aad:rotation')).resolves.toBe('rotate-me');
    await expect(KeyRing.open(database.db, [masterA])).rejects.toThrow(KeyRingError);
    // Running it twice changes nothing.
    expect(await rewrapDataKeysUnscoped(database.db, masterA, masterB)).toMatchObject({ rewrapped: 0 });
    await rewrapDataKeysUnscoped(database.db, masterB, masterA);
  });

  it('rotates the data key: old ciphertexts stay readable, the re-seal moves them to the new key', async () => {
    // Tables are the owner's to create (migrations); default privileges open it to the application.
    await database.withOwnerConnection((owner) => owner.execute(sql`create table sealed_test (id uuid primary key default gen_random_uuid(), secret text)`));
    const column: SealedColumn = { table: 'sealed_test', column: 'secret', aad: (id) => `sealed_test:${id}` };
    const ring = await KeyRing.open(database.db, [masterA]);
    const oldKeyId = ring.activeDataKeyId;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const [row] = await withUnscoped(database.db, (tx) => queryRows<{ id: string }>(tx, sql`insert into sealed_test (secret) values (null) returning id::text as id`));
      const id = (row as { id: string }).id;
      ids.push(id);
      const secret = await ring.seal(`secret-${i}`, column.aad(id));
      await withUnscoped(database.db, (tx) => tx.execute(sql`update sealed_test set secret = ${secret} where id = ${id}::uuid`));
    }
    const other = await KeyRing.open(database.db, [masterA]); // another process
    const newKeyId = await other.rotateDataKeyUnscoped();
    expect(newKeyId).not.toBe(oldKeyId);
    const read = async (r: KeyRing) => {
      const rows = await withUnscoped(database.db, (tx) => queryRows<{ id: string; secret: string }>(tx, sql`select id::text as id, secret from sealed_test`));
      return Promise.all(rows.map(async (row) => ({ keyId: KeyRing.dataKeyIdOf(row.secret), text: await r.open(row.secret, column.aad(row.id)) })));
    };
    expect((await read(other)).every((v) => v.keyId === oldKeyId)).toBe(true);
    expect(await resealUnderActiveKeyUnscoped(database.db, ring, { columns: [column], batchSize: 2 })).toEqual({ resealed: 3 });
    const after = await read(other);
    expect(after.map((v) => v.keyId)).toEqual([newKeyId, newKeyId, newKeyId]);
    expect(after.map((v) => v.text).sort()).toEqual(['secret-0', 'secret-1', 'secret-2']);
    expect(await resealUnderActiveKeyUnscoped(database.db, ring, { columns: [column] })).toEqual({ resealed: 0 });
  });
});

describe('savoir keys rotate / rotate-data-key', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.close());

  it('rotates the master key from key files, and says clearly what is wrong with a key file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'savoir-keys-'));
    const oldFile = path.join(dir, 'old.key');
    const newFile = path.join(dir, 'new.key');
    writeFileSync(oldFile, `${randomBytes(32).toString('base64')}\n`);
    writeFileSync(newFile, `${randomBytes(32).toString('base64')}\n`);
    const config = testConfig({ SAVOIR_MASTER_KEY_FILE: oldFile });
    const ring = await KeyRing.open(database.db, [loadMasterKey(config.masterKey)]);
    const sealed = await ring.seal('cli-secret', 'aad:cli');

    await expect(rotateMasterKeyCommand(config, {}, database)).rejects.toThrow(/--new-key-file/);
    await expect(rotateMasterKeyCommand(config, { newKeyFile: path.join(dir, 'missing.key') }, database)).rejects.toThrow(/cannot read the master key file/);
    writeFileSync(path.join(dir, 'short.key'), 'c2hvcnQ=\n');
    await expect(rotateMasterKeyCommand(config, { newKeyFile: path.join(dir, 'short.key') }, database)).rejects.toThrow(/32 bytes/);

    expect(await rotateMasterKeyCommand(config, { newKeyFile: newFile }, database)).toMatch(/Re-wrapped 1 data key/);
    const rotated = testConfig({ SAVOIR_MASTER_KEY_FILE: newFile });
    const after = await KeyRing.open(database.db, [loadMasterKey(rotated.masterKey)]);
    await expect(after.open(sealed, 'aad:cli')).resolves.toBe('cli-secret');

    expect(await rotateDataKeyCommand(rotated, database)).toMatch(/is now active/);
    const jobs = await withUnscoped(database.db, (tx) => queryRows<{ kind: string }>(tx, sql`select kind from jobs`));
    expect(jobs.map((j) => j.kind)).toEqual([RESEAL_JOB_KIND]);
    await expect(after.open(sealed, 'aad:cli')).resolves.toBe('cli-secret');
  });

  it('rotates without downtime with the previous key configured beside the new one', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'savoir-keys-prev-'));
    const files = { a: path.join(dir, 'a.key'), b: path.join(dir, 'b.key') };
    writeFileSync(files.a, randomBytes(32).toString('base64'));
    writeFileSync(files.b, randomBytes(32).toString('base64'));
    const fresh = await createTestDatabase();
    try {
      const before = testConfig({ SAVOIR_MASTER_KEY_FILE: files.a });
      const ring = await KeyRing.open(fresh.db, loadMasterKeys(before));
      const sealed = await ring.seal('kept', 'aad:prev');
      // Step 1: processes restart with the new key as current and the old one as previous: they start and read.
      const during = testConfig({ SAVOIR_MASTER_KEY_FILE: files.b, SAVOIR_MASTER_KEY_PREVIOUS_FILE: files.a });
      await expect((await KeyRing.open(fresh.db, loadMasterKeys(during))).open(sealed, 'aad:prev')).resolves.toBe('kept');
      // Step 2: re-wrap from previous to current, no flag needed.
      expect(await rotateMasterKeyCommand(during, {}, fresh)).toMatch(/remove SAVOIR_MASTER_KEY_PREVIOUS_FILE/);
      // Step 3: the previous key is no longer needed.
      const after = testConfig({ SAVOIR_MASTER_KEY_FILE: files.b });
      await expect((await KeyRing.open(fresh.db, loadMasterKeys(after))).open(sealed, 'aad:prev')).resolves.toBe('kept');
    } finally {
      await fresh.close();
    }
  });
});

