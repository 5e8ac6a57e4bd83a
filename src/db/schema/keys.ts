import { sql } from 'drizzle-orm';
import { index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Data keys of the key ring (envelope encryption). Each is a random AES-256 key stored only
 * wrapped (AES-256-GCM) under the master key named by `master_key_id` (a fingerprint, never the
 * key). The newest key without `retired_at` seals new secrets; retired keys still open old ones
 * until a re-seal job has moved every secret to the active key. Platform table: no organisation.
 */
export const dataKeys = pgTable(
  'data_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    wrappedKey: text('wrapped_key').notNull(),
    masterKeyId: text('master_key_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    retiredAt: timestamp('retired_at', { withTimezone: true }),
  },
  (table) => [index('data_keys_active_idx').on(table.createdAt).where(sql`${table.retiredAt} is null`)],
);

export type DataKeyRow = typeof dataKeys.$inferSelect;
