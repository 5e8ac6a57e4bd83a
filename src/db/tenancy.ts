import { sql } from 'drizzle-orm';
import type { AppDb, AppTx } from './client.ts';
import { APP_ROLE_NAME, PLATFORM_ROLE_NAME } from './schema/tenancy.ts';

/** Who a piece of work is done for. Every tenant-scoped repository function takes it first. */
export interface TenantContext {
  organizationId: string;
}

/**
 * Runs `fn` in a transaction bound to one organisation: the application role, with `app.org` set,
 * so row-level security hides every other organisation's rows even if a query forgets its filter.
 */
export async function withTenant<T>(db: AppDb, tenant: TenantContext, fn: (tx: AppTx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('role', ${APP_ROLE_NAME}, true), set_config('app.org', ${tenant.organizationId}, true)`);
    return fn(tx);
  });
}

/**
 * Runs `fn` in a transaction that sees every organisation (platform work: the job runner claiming
 * work, operators creating organisations, migrations' checks). Callers carry `unscoped` in their names.
 */
export async function withUnscoped<T>(db: AppDb, fn: (tx: AppTx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('role', ${PLATFORM_ROLE_NAME}, true)`);
    return fn(tx);
  });
}
