import { index, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { membershipRole, users } from './identity.ts';
import { organizations } from './organizations.ts';
import { tenantIsolationPolicy } from './tenancy.ts';

/** An invitation to join an organisation with a role; the token (in the e-mail) is stored hashed. */
export const invitations = pgTable(
  'invitations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    role: membershipRole('role').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    /** Null when a platform operator invited an organisation's first owner. */
    invitedBy: uuid('invited_by').references(() => users.id, { onDelete: 'set null' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    acceptedAt: timestamp('accepted_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('invitations_organization_idx').on(table.organizationId), tenantIsolationPolicy(table.organizationId)],
);

export const supportScope = pgEnum('support_scope', ['read', 'write']);

/** Time-limited access an organisation's owner grants to platform operators, visible to the organisation. */
export const supportGrants = pgTable(
  'support_grants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    scope: supportScope('scope').notNull(),
    reason: text('reason').notNull(),
    grantedBy: uuid('granted_by').references(() => users.id, { onDelete: 'set null' }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('support_grants_organization_idx').on(table.organizationId), tenantIsolationPolicy(table.organizationId)],
);

export type Invitation = typeof invitations.$inferSelect;
export type SupportGrant = typeof supportGrants.$inferSelect;
