import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Config } from '../config/load.ts';
import * as schema from './schema/index.ts';
import { APP_ROLE_NAME } from './schema/tenancy.ts';

export type Schema = typeof schema;
/** One type for both drivers: every repository is written once against it. */
export type AppDb = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handle, as passed to `db.transaction(fn)`. */
export type AppTx = Parameters<Parameters<AppDb['transaction']>[0]>[0];

export interface Database {
  kind: 'pglite' | 'postgres';
  db: AppDb;
  /** Runs `fn` with a handle connected as the migrating (session) user, outside the application role. */
  withOwnerConnection<T>(fn: (ownerDb: AppDb) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** PostgreSQL pool size (ignored by PGlite, which has one connection). */
  poolSize?: number;
}

export async function openDatabase(target: Config['database'], options: OpenOptions = {}): Promise<Database> {
  return target.kind === 'pglite' ? openPglite(target.dataDir) : openPostgres(target.url, options.poolSize ?? 10, target.migrationUrl);
}

/** Opens an embedded database in a folder (created if missing), or in memory with `memory://`. */
export async function openPglite(dataDir: string): Promise<Database> {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir, { extensions: { vector } });
  const db = drizzlePglite(client, { schema }) as unknown as AppDb;
  // PGlite's one session starts as a superuser, which bypasses RLS: once migrations have created
  // the application role, the session runs as it, like every pooled PostgreSQL connection.
  const enterAppRole = async () => {
    const role = await client.query(`select 1 from pg_roles where rolname = '${APP_ROLE_NAME}'`);
    if (role.rows.length > 0) await client.exec(`SET ROLE ${APP_ROLE_NAME}`);
  };
  await enterAppRole();
  return {
    kind: 'pglite',
    db,
    withOwnerConnection: async (fn) => {
      await client.exec('RESET ROLE');
      try {
        return await fn(db);
      } finally {
        await enterAppRole();
      }
    },
    close: async () => {
      await client.close();
    },
  };
}

/**
 * `url` is the application's login: in production a role that owns nothing and may only become
 * savoir_app or savoir_platform. `ownerUrl` is the role that owns the tables and runs migrations
 * (the same login when only one URL is configured).
 */
export async function openPostgres(url: string, poolSize: number, ownerUrl: string = url): Promise<Database> {
  // Every pooled connection starts as the application role (set in the startup packet, so a
  // connection that cannot take it fails instead of running as the owner): RLS applies even to a
  // query that forgets its tenant filter; unscoped work says so explicitly (see tenancy.ts).
  const pool = new pg.Pool({ connectionString: url, max: poolSize, application_name: 'savoir', options: `-c role=${APP_ROLE_NAME}` });
  // A pool client that errors while idle must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db = drizzlePg(pool, { schema }) as unknown as AppDb;
  return {
    kind: 'postgres',
    db,
    withOwnerConnection: async (fn) => {
      const ownerClient = new pg.Client({ connectionString: ownerUrl, application_name: 'savoir-owner' });
      await ownerClient.connect();
      try {
        return await fn(drizzlePg(ownerClient, { schema }) as unknown as AppDb);
      } finally {
        await ownerClient.end();
      }
    },
    close: async () => {
      await pool.end();
    },
  };
}

/** Runs raw SQL and returns its rows; both drivers answer `{ rows }`. */
export async function queryRows<Row>(db: AppDb | AppTx, query: SQL): Promise<Row[]> {
  const result = (await db.execute(query)) as unknown as { rows: Row[] };
  return result.rows;
}
