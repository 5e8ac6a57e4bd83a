import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { queryRows, type AppDb, type Database } from './client.ts';

export const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Any fixed number: several processes starting together take turns migrating. */
const MIGRATION_LOCK_ID = 4_127_003_581;

export async function runMigrations(database: Database): Promise<{ applied: number }> {
  const before = await appliedMigrationCount(database);
  await database.withOwnerConnection(async (owner) => {
    if (database.kind === 'pglite') {
      await migratePglite(owner as unknown as PgliteDatabase, { migrationsFolder });
      return;
    }
    await owner.execute(sql`select pg_advisory_lock(${MIGRATION_LOCK_ID})`);
    try {
      await migratePg(owner as unknown as NodePgDatabase, { migrationsFolder });
    } finally {
      await owner.execute(sql`select pg_advisory_unlock(${MIGRATION_LOCK_ID})`);
    }
  });
  return { applied: (await appliedMigrationCount(database)) - before };
}

export function expectedMigrationCount(): number {
  const journal = JSON.parse(readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as { entries: unknown[] };
  return journal.entries.length;
}

/** Migrations recorded by Drizzle's migrator; 0 on an empty database. */
export async function appliedMigrationCount(database: Database): Promise<number> {
  return database.withOwnerConnection(async (owner: AppDb): Promise<number> => {
    const [table] = await queryRows<{ exists: boolean }>(owner, sql`select to_regclass('drizzle.__drizzle_migrations') is not null as exists`);
    if (!table?.exists) return 0;
    const [count] = await queryRows<{ n: number }>(owner, sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
    return count?.n ?? 0;
  });
}
