import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMasterKeyText } from '../src/crypto/master-key.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

function savoir(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 90_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('savoir bootstrap', () => {
  let database: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    database = await createTestDatabase();
    env = {
      SAVOIR_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'savoir-bootstrap-')),
      SAVOIR_MASTER_KEY: generateMasterKeyText(),
      SAVOIR_PUBLIC_URL: 'https://savoir.example',
      ...(database.url ? { DATABASE_URL: database.url, SAVOIR_MIGRATION_DATABASE_URL: database.ownerUrl! } : {}),
    };
  });
  afterAll(() => database.close());

  it('prints a one-time setup link valid 30 minutes while no platform operator exists', () => {
    const result = savoir(['bootstrap'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/https:\/\/savoir\.example\/setup#token=[A-Za-z0-9_-]{43}/);
    expect(result.stdout).toContain('within 30 minutes');
  });
});
