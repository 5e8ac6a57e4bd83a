import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openPglite, openPostgres } from '../../src/db/client.ts';
import { runMigrations } from '../../src/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    testDatabase: { kind: 'pglite'; templateDir: string } | { kind: 'postgres'; adminUrl: string; templateName: string };
  }
}

/**
 * Builds one migrated template database per run; each test file then gets its own copy:
 * a copied PGlite data folder, or `CREATE DATABASE ... TEMPLATE` on PostgreSQL.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.SAVOIR_TEST_DB === 'postgres') {
    const adminUrl = process.env.DATABASE_URL;
    if (!adminUrl) throw new Error('SAVOIR_TEST_DB=postgres needs DATABASE_URL (a PostgreSQL server with the vector extension)');
    const templateName = `savoir_tpl_${process.pid}`;
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${templateName}`);
    await adminQuery(adminUrl, `CREATE DATABASE ${templateName}`);
    const templateUrl = withDatabase(adminUrl, templateName);
    const database = await openPostgres(templateUrl, 1);
    await runMigrations(database);
    await database.close();
    // As in production: the application logs in as a role that owns nothing and may only become
    // savoir_app or savoir_platform; the superuser plays the migrating owner.
    await adminQuery(
      adminUrl,
      `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${TEST_LOGIN_ROLE}') THEN CREATE ROLE ${TEST_LOGIN_ROLE} LOGIN NOINHERIT; END IF; END $$`,
    );
    await adminQuery(adminUrl, `GRANT savoir_app, savoir_platform TO ${TEST_LOGIN_ROLE}`);
    project.provide('testDatabase', { kind: 'postgres', adminUrl, templateName });
    return async () => {
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${templateName} WITH (FORCE)`);
    };
  }
  const root = mkdtempSync(path.join(tmpdir(), 'savoir-test-template-'));
  const templateDir = path.join(root, 'pglite');
  const database = await openPglite(templateDir);
  await runMigrations(database);
  await database.close();
  project.provide('testDatabase', { kind: 'pglite', templateDir });
  return async () => rmSync(root, { recursive: true, force: true });
}

export const TEST_LOGIN_ROLE = 'savoir_test_login';

export function withDatabase(url: string, name: string, user?: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  if (user) {
    parsed.username = user;
    parsed.password = '';
  }
  return parsed.toString();
}

export async function adminQuery(adminUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

