import { index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from './identity.ts';
import { organizations } from './organizations.ts';
import { tenantIsolationPolicy } from './tenancy.ts';

/**
 * Organisation API keys: `sk_<prefix>_<secret>`. The prefix is visible and finds the row; only the
 * SHA-256 of the whole key is stored. A key acts with the permissions it lists, never beyond its
 * creator's current role, and dies with its creator's membership.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    prefix: text('prefix').notNull().unique(),
    secretHash: text('secret_hash').notNull(),
    permissions: text('permissions').array().notNull(),
    /** When set, the key may use only these assistants. */
    assistantIds: uuid('assistant_ids').array(),
    createdBy: uuid('created_by')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('api_keys_organization_idx').on(table.organizationId), tenantIsolationPolicy(table.organizationId)],
);

export type ApiKey = typeof apiKeys.$inferSelect;
