import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { openPglite, openPostgres, type Database } from '../../src/db/client.ts';
import { adminQuery, TEST_LOGIN_ROLE, withDatabase } from './global-setup.ts';

export interface TestDatabase extends Database {
  /** The application's login URL on PostgreSQL (for a second process or pool); undefined on PGlite. */
  url: string | undefined;
  /** The owner's URL (migrations) on PostgreSQL; undefined on PGlite. */
  ownerUrl: string | undefined;
  /** Opens another independent handle on the same database (PostgreSQL only: PGlite has one connection). */
  openAnother(): Promise<Database>;
}

/** A fresh, migrated database of the suite's engine (PGlite by default, PostgreSQL with SAVOIR_TEST_DB=postgres). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const target = inject('testDatabase');
  if (target.kind === 'pglite') {
    const root = mkdtempSync(path.join(tmpdir(), 'savoir-test-db-'));
    const dataDir = path.join(root, 'pglite');
    cpSync(target.templateDir, dataDir, { recursive: true });
    const database = await openPglite(dataDir);
    return {
      ...database,
      url: undefined,
      ownerUrl: undefined,
      openAnother: () => Promise.reject(new Error('PGlite has a single connection')),
      close: async () => {
        await database.close();
        rmSync(root, { recursive: true, force: true });
      },
    };
  }
  const name = `savoir_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(target.adminUrl, `CREATE DATABASE ${name} TEMPLATE ${target.templateName}`);
  const url = withDatabase(target.adminUrl, name, TEST_LOGIN_ROLE);
  const ownerUrl = withDatabase(target.adminUrl, name);
  const database = await openPostgres(url, 5, ownerUrl);
  return {
    ...database,
    url,
    ownerUrl,
    openAnother: () => openPostgres(url, 5, ownerUrl),
    close: async () => {
      await database.close();
      await adminQuery(target.adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

export const testEngine = (): 'pglite' | 'postgres' => inject('testDatabase').kind;
