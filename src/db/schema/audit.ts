import { sql } from 'drizzle-orm';
import { bigint, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { tenantIsolationPolicy } from './tenancy.ts';

/**
 * The audit log: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE, and the application
 * role has no such privileges) and hash-chained, one chain per organisation plus one for the
 * platform (organization_id NULL). Each event carries the hash of the one before it in its chain,
 * so editing or removing a row breaks the chain where `savoir audit verify` can see it.
 *
 * No foreign key to organizations on purpose: the log must outlive what it records, and a
 * cascading delete would be refused by the append-only trigger anyway.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    id: uuid('id').primaryKey(),
    organizationId: uuid('organization_id'),
    /** Position in the chain, from 1, without gaps. */
    sequence: bigint('sequence', { mode: 'number' }).notNull(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 3 }).notNull(),
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    outcome: text('outcome').notNull(),
    ip: text('ip'),
    requestId: text('request_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (table) => [
    // One event per position per chain: a backstop that makes a forked chain fail instead of commit.
    uniqueIndex('audit_events_chain_sequence_unique').on(
      sql`coalesce(${table.organizationId}, '00000000-0000-0000-0000-000000000000'::uuid)`,
      table.sequence,
    ),
    index('audit_events_org_sequence_idx').on(table.organizationId, table.sequence),
    index('audit_events_org_action_idx').on(table.organizationId, table.action),
    tenantIsolationPolicy(table.organizationId),
  ],
);

export type AuditEventRow = typeof auditEvents.$inferSelect;
