import { sql } from 'drizzle-orm';
import type { AppDb } from '../db/client.ts';
import { queryRows } from '../db/client.ts';
import { withUnscoped } from '../db/tenancy.ts';
import type { KeyRing } from './key-ring.ts';

/** A column holding sealed values, and the AAD each row's value was sealed with. */
export interface SealedColumn {
  table: string;
  column: string;
  /** The row's key, named in the AAD (default `id`). */
  idColumn?: string;
  aad(id: string): string;
}

/** Every sealed column of Savoir. A room that seals a new column adds it here, so rotation re-seals it. */
export const sealedColumns: SealedColumn[] = [
  { table: 'provider_configs', column: 'credentials_sealed', aad: (id) => `provider_config:${id}:credentials` },
  { table: 'totp_factors', column: 'secret_sealed', idColumn: 'user_id', aad: (userId) => `totp_factor:${userId}:secret` },
];

export const RESEAL_JOB_KIND = 'keys.reseal';

/**
 * Moves every sealed value still under an older data key to the active one (after
 * `savoir keys rotate-data-key`). Idempotent and resumable: it only touches values under other
 * keys, in small batches, each row updated only if it still holds the value read.
 */
export async function resealUnderActiveKeyUnscoped(db: AppDb, ring: KeyRing, options: { batchSize?: number; columns?: SealedColumn[] } = {}): Promise<{ resealed: number }> {
  await ring.reload();
  const activeId = ring.activeDataKeyId;
  const batchSize = options.batchSize ?? 200;
  let resealed = 0;
  for (const target of options.columns ?? sealedColumns) {
    const table = sql.identifier(target.table);
    const column = sql.identifier(target.column);
    const idColumn = sql.identifier(target.idColumn ?? 'id');
    for (;;) {
      const rows = await withUnscoped(db, (tx) =>
        queryRows<{ id: string; sealed: string }>(
          tx,
          sql`select ${idColumn}::text as id, ${column} as sealed from ${table} where ${column} is not null and split_part(${column}, '.', 2) <> ${activeId} limit ${batchSize}`,
        ),
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        const plaintext = await ring.open(row.sealed, target.aad(row.id));
        const next = await ring.seal(plaintext, target.aad(row.id));
        await withUnscoped(db, (tx) => tx.execute(sql`update ${table} set ${column} = ${next} where ${idColumn} = ${row.id}::uuid and ${column} = ${row.sealed}`));
        resealed += 1;
      }
    }
  }
  return { resealed };
}
