import { index, integer, jsonb, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from './organizations.ts';
import { tenantIsolationPolicy } from './tenancy.ts';

export const emailStatus = pgEnum('email_status', ['queued', 'sent', 'failed']);

/**
 * E-mails to send, written in the same transaction as the action that sends them and delivered
 * by an 'email.deliver' job. `variables` may hold a one-time link (invitation, password reset):
 * it is wiped (set to NULL) as soon as the e-mail is sent or has failed for good.
 */
export const emailOutbox = pgTable(
  'email_outbox',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** NULL for platform e-mails (operators, bootstrap). */
    organizationId: uuid('organization_id').references(() => organizations.id, { onDelete: 'cascade' }),
    toAddress: text('to_address').notNull(),
    template: text('template').notNull(),
    locale: text('locale').notNull(),
    variables: jsonb('variables').$type<Record<string, string>>(),
    status: emailStatus('status').notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    sentAt: timestamp('sent_at', { withTimezone: true }),
    providerMessageId: text('provider_message_id'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('email_outbox_organization_idx').on(table.organizationId, table.createdAt), tenantIsolationPolicy(table.organizationId)],
);

export type OutboxEmail = typeof emailOutbox.$inferSelect;
