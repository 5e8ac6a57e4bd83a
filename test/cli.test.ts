import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateMasterKeyText } from '../src/crypto/master-key.ts';
import { expectedMigrationCount } from '../src/db/migrate.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';

function savoir(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('savoir CLI', () => {
  let database: TestDatabase;
  let env: Record<string, string>;
  const masterKey = generateMasterKeyText();

  beforeAll(async () => {
    database = await createTestDatabase();
    env = {
      SAVOIR_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'savoir-cli-')),
      SAVOIR_MASTER_KEY: masterKey,
      ...(database.url ? { DATABASE_URL: database.url } : {}),
    };
  });
  afterAll(() => database.close());

  it('migrate applies migrations once, then finds the database up to date', () => {
    const first = savoir(['migrate'], env);
    expect(first.code).toBe(0);
    // A PostgreSQL test database is a copy of a migrated template; a PGlite data folder starts empty.
    expect(first.stdout).toMatch(database.url ? /The database is up to date\./ : new RegExp(`Applied ${expectedMigrationCount()} migration\\(s\\)\\.`));
    const second = savoir(['migrate'], env);
    expect(second.stdout).toContain('The database is up to date.');
  });

  it('doctor prints the effective configuration with secrets masked and checks every part', () => {
    const result = savoir(['doctor'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Effective configuration (secrets masked):');
    expect(result.stdout).toMatch(/SAVOIR_MASTER_KEY\s+\*{8}/);
    expect(result.stdout).not.toContain(masterKey);
    for (const check of ['data folder', 'master key', 'TLS', 'database', 'production guardrails']) {
      expect(result.stdout).toMatch(new RegExp(`\\[ ok \\] ${check}:`));
    }
    expect(result.stdout).toMatch(new RegExp(`database: .* reachable; ${expectedMigrationCount()} of ${expectedMigrationCount()} migrations applied`));
  });

  it('doctor masks a database password and fails when the database is unreachable', () => {
    const result = savoir(['doctor'], { ...env, DATABASE_URL: 'postgres://savoir:s3cret-pw@127.0.0.1:1/savoir' });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('postgres://savoir:********@127.0.0.1:1/savoir');
    expect(result.stdout).not.toContain('s3cret-pw');
    expect(result.stdout).toMatch(/\[FAIL\] database:/);
  });

  it('refuses to serve in production on development defaults, saying why', () => {
    const result = savoir(['serve'], { SAVOIR_ENV: 'production', SAVOIR_DATA_DIR: env.SAVOIR_DATA_DIR! });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('Savoir refuses to start in production:');
    expect(result.stderr).toContain('production needs a certificate');
    expect(result.stderr).toContain('production needs a master key');
    expect(result.stderr).toContain('SAVOIR_MAIL_TRANSPORT is file');
  });

  it('explains a bad configuration value and exits with EX_CONFIG', () => {
    const result = savoir(['serve'], { SAVOIR_PORT: 'https', SAVOIR_DATA_DIR: env.SAVOIR_DATA_DIR! });
    expect(result.code).toBe(78);
    expect(result.stderr).toContain('SAVOIR_PORT: expected a port number (got "https")');
  });

  it('generates a master key of 32 bytes', () => {
    const result = savoir(['keys', 'generate'], {});
    expect(Buffer.from(result.stdout.trim(), 'base64')).toHaveLength(32);
  });
});
