import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { organizations } from './organizations.ts';
import { tenantIsolationPolicy } from './tenancy.ts';

export const jobStatus = pgEnum('job_status', ['queued', 'running', 'succeeded', 'failed', 'cancelled']);

/**
 * Durable jobs. Claimed with FOR UPDATE SKIP LOCKED; a claim holds a lease that the worker renews
 * while it runs, so a job whose worker died is claimed again once the lease expires.
 * Platform jobs have no organisation; an organisation's jobs are visible to it through RLS.
 */
export const jobs = pgTable(
  'jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: uuid('organization_id').references(() => organizations.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    payload: jsonb('payload').notNull().default({}),
    idempotencyKey: text('idempotency_key'),
    status: jobStatus('status').notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull().default(5),
    runAt: timestamp('run_at', { withTimezone: true }).notNull().defaultNow(),
    leaseToken: uuid('lease_token'),
    leaseExpiresAt: timestamp('lease_expires_at', { withTimezone: true }),
    lockedBy: text('locked_by'),
    progressDone: integer('progress_done').notNull().default(0),
    progressTotal: integer('progress_total'),
    lastError: text('last_error'),
    result: jsonb('result'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (table) => [
    // One job per (organisation, kind, idempotency key); platform jobs share the nil organisation.
    uniqueIndex('jobs_idempotency_unique')
      .on(sql`coalesce(${table.organizationId}, '00000000-0000-0000-0000-000000000000'::uuid)`, table.kind, table.idempotencyKey)
      .where(sql`${table.idempotencyKey} is not null`),
    index('jobs_claimable_idx').on(table.runAt).where(sql`${table.status} = 'queued'`),
    index('jobs_running_lease_idx').on(table.leaseExpiresAt).where(sql`${table.status} = 'running'`),
    index('jobs_organization_idx').on(table.organizationId, table.createdAt),
    tenantIsolationPolicy(table.organizationId),
  ],
);

export type Job = typeof jobs.$inferSelect;
