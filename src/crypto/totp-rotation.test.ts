import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TOTP, URI } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, testConfig } from '../../test/support/app.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { dumpDatabaseText } from '../../test/support/dump.ts';
import { createOrganization, createUser, signedInFrom, signIn } from '../../test/support/identity.ts';
import { rotateDataKeyCommand, rotateMasterKeyCommand } from '../cli/keys.ts';
import { totpFactors } from '../db/schema/index.ts';
import { withUnscoped } from '../db/tenancy.ts';
import { KeyRing } from './key-ring.ts';
import { generateMasterKeyText, loadMasterKeys } from './master-key.ts';
import { resealUnderActiveKeyUnscoped } from './reseal.ts';

describe('TOTP secrets live in the key ring: a master-key rotation does not lock anyone out', () => {
  let database: TestDatabase;
  const dir = mkdtempSync(path.join(tmpdir(), 'savoir-totp-rotation-'));
  const files = { a: path.join(dir, 'a.key'), b: path.join(dir, 'b.key') };

  beforeAll(async () => {
    database = await createTestDatabase();
    writeFileSync(files.a, `${generateMasterKeyText()}\n`);
    writeFileSync(files.b, `${generateMasterKeyText()}\n`);
  });
  afterAll(() => database.close());

  it('enrols TOTP under key A; after `keys rotate` to B (A as previous) and a data-key rotation, codes still work; no secret in clear', async () => {
    const orgId = await createOrganization(database.db, 'Rotation');
    await createUser(database.db, { email: 'admin@rotation.example', organizationId: orgId, role: 'admin' });
    const before = await buildTestApp(database, { config: testConfig({ SAVOIR_MASTER_KEY_FILE: files.a }) });
    const s = await signIn(before.app, 'admin@rotation.example');
    const setup = await before.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/setup', headers: s.headers });
    expect(setup.statusCode, setup.body).toBe(200);
    const totp = URI.parse(setup.json().otpauthUri) as TOTP;
    const confirm = await before.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/confirm', headers: s.headers, payload: { code: totp.generate() } });
    expect(confirm.statusCode, confirm.body).toBe(200);
    expect(signedInFrom({ cookies: confirm.cookies, json: () => confirm.json().session }).cookie).toBeTruthy();
    await before.app.close();

    const [factor] = await withUnscoped(database.db, (tx) => tx.select().from(totpFactors));
    expect(factor!.secretSealed).toMatch(/^sv1\./);

    // The operator rotates: new key current, old key previous; re-wrap; then a new data key and the re-seal job.
    const during = testConfig({ SAVOIR_MASTER_KEY_FILE: files.b, SAVOIR_MASTER_KEY_PREVIOUS_FILE: files.a });
    expect(await rotateMasterKeyCommand(during, {}, database)).toMatch(/Re-wrapped/);
    expect(await rotateDataKeyCommand(during, database)).toMatch(/is now active/);
    const ring = await KeyRing.open(database.db, loadMasterKeys(during));
    expect((await resealUnderActiveKeyUnscoped(database.db, ring)).resealed).toBeGreaterThanOrEqual(1);
    const [resealed] = await withUnscoped(database.db, (tx) => tx.select().from(totpFactors));
    expect(resealed!.secretSealed.split('.')[1]).toBe(ring.activeDataKeyId);

    // Only the new key from now on.
    const after = await buildTestApp(database, { config: testConfig({ SAVOIR_MASTER_KEY_FILE: files.b }) });
    const again = await signIn(after.app, 'admin@rotation.example');
    expect(again.body.next).toBe('mfa-verification');
    const verify = await after.app.inject({ method: 'POST', url: '/api/v1/auth/mfa/totp/verify', headers: again.headers, payload: { code: totp.generate({ timestamp: Date.now() + 30_000 }) } });
    expect(verify.statusCode, verify.body).toBe(200);
    await after.app.close();

    const dump = await dumpDatabaseText(database);
    expect(dump).toContain('admin@rotation.example');
    expect(dump).not.toContain(totp.secret.base32);
  });
});
