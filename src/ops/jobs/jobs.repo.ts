import { and, eq, sql } from 'drizzle-orm';
import { queryRows, type AppTx } from '../../db/client.ts';
import { jobs, type Job } from '../../db/schema/index.ts';
import type { TenantContext } from '../../db/tenancy.ts';

export interface EnqueueJob {
  kind: string;
  payload?: Record<string, unknown>;
  /** Enqueuing twice with the same key (per organisation and kind) returns the first job. */
  idempotencyKey?: string;
  maxAttempts?: number;
  runAt?: Date;
}

/**
 * Enqueues a job in the caller's transaction, so the job exists if and only if the change that
 * asked for it was committed. `organizationId` null means a platform job (unscoped transactions only).
 */
export async function enqueueJob(tx: AppTx, organizationId: string | null, job: EnqueueJob): Promise<{ job: Job; created: boolean }> {
  const [created] = await tx
    .insert(jobs)
    .values({
      organizationId,
      kind: job.kind,
      payload: job.payload ?? {},
      idempotencyKey: job.idempotencyKey ?? null,
      maxAttempts: job.maxAttempts ?? 5,
      runAt: job.runAt ?? new Date(),
    })
    .onConflictDoNothing()
    .returning();
  if (created) return { job: created, created: true };
  const [existing] = await tx
    .select()
    .from(jobs)
    .where(
      and(
        organizationId === null ? sql`${jobs.organizationId} is null` : eq(jobs.organizationId, organizationId),
        eq(jobs.kind, job.kind),
        eq(jobs.idempotencyKey, job.idempotencyKey ?? ''),
      ),
    );
  if (!existing) throw new Error(`job ${job.kind} conflicted but no existing job was found`);
  return { job: existing, created: false };
}

export async function findJob(tx: AppTx, tenant: TenantContext, jobId: string): Promise<Job | undefined> {
  const [job] = await tx
    .select()
    .from(jobs)
    .where(and(eq(jobs.organizationId, tenant.organizationId), eq(jobs.id, jobId)));
  return job;
}

/**
 * Claims the next due job of the given kinds. SKIP LOCKED lets any number of workers claim at once
 * without waiting on each other or taking the same row.
 */
export async function claimNextJobUnscoped(tx: AppTx, kinds: string[], workerId: string, leaseMs: number): Promise<Job | undefined> {
  if (kinds.length === 0) return undefined;
  const [claimed] = await queryRows<{ id: string }>(tx, sql`
    update ${jobs} set
      status = 'running',
      attempts = ${jobs.attempts} + 1,
      lease_token = gen_random_uuid(),
      lease_expires_at = now() + ${leaseMs} * interval '1 millisecond',
      locked_by = ${workerId},
      updated_at = now()
    where ${jobs.id} = (
      select id from ${jobs}
      where status = 'queued' and run_at <= now() and kind in (${sql.join(kinds.map((k) => sql`${k}`), sql`, `)})
      order by run_at, created_at
      limit 1
      for update skip locked
    )
    returning id`);
  if (!claimed) return undefined;
  const [job] = await tx.select().from(jobs).where(eq(jobs.id, claimed.id));
  return job;
}

/**
 * Jobs whose lease expired (their worker died or hung) go back to the queue, or end as failed
 * when they have used their attempts. Returns how many were recovered.
 */
export async function recoverExpiredLeasesUnscoped(tx: AppTx): Promise<number> {
  const recovered = await queryRows<{ id: string }>(tx, sql`
    update ${jobs} set
      status = case when attempts >= max_attempts then 'failed'::job_status else 'queued'::job_status end,
      last_error = 'lease expired: the worker stopped before finishing (attempt ' || attempts || ' of ' || max_attempts || ')',
      finished_at = case when attempts >= max_attempts then now() else null end,
      lease_token = null, lease_expires_at = null, locked_by = null,
      run_at = now(), updated_at = now()
    where status = 'running' and lease_expires_at < now()
    returning id`);
  return recovered.length;
}

/** Every write by a worker names its lease: a worker that lost its lease changes nothing. */
function ownsLease(jobId: string, leaseToken: string) {
  return and(eq(jobs.id, jobId), eq(jobs.leaseToken, leaseToken), eq(jobs.status, 'running'));
}

export async function renewLeaseUnscoped(tx: AppTx, jobId: string, leaseToken: string, leaseMs: number, progress?: { done: number; total?: number }) {
  const updated = await tx
    .update(jobs)
    .set({
      leaseExpiresAt: sql`now() + ${leaseMs} * interval '1 millisecond'`,
      updatedAt: sql`now()`,
      ...(progress ? { progressDone: progress.done, ...(progress.total === undefined ? {} : { progressTotal: progress.total }) } : {}),
    })
    .where(ownsLease(jobId, leaseToken))
    .returning({ id: jobs.id });
  return updated.length === 1;
}

export async function completeJobUnscoped(tx: AppTx, jobId: string, leaseToken: string, result: unknown): Promise<boolean> {
  const updated = await tx
    .update(jobs)
    .set({ status: 'succeeded', result: result ?? null, lastError: null, finishedAt: sql`now()`, updatedAt: sql`now()`, leaseToken: null, leaseExpiresAt: null })
    .where(ownsLease(jobId, leaseToken))
    .returning({ id: jobs.id });
  return updated.length === 1;
}

/** Records a failed attempt: back to the queue after `retryInMs`, or failed for good when attempts are spent. */
export async function failAttemptUnscoped(tx: AppTx, job: Job, leaseToken: string, error: string, retryInMs: number | null): Promise<'retry' | 'failed' | 'lost'> {
  const finalFailure = retryInMs === null || job.attempts >= job.maxAttempts;
  const updated = await tx
    .update(jobs)
    .set(
      finalFailure
        ? { status: 'failed', lastError: error, finishedAt: sql`now()`, updatedAt: sql`now()`, leaseToken: null, leaseExpiresAt: null, lockedBy: null }
        : {
            status: 'queued',
            lastError: error,
            runAt: sql`now() + ${retryInMs} * interval '1 millisecond'`,
            updatedAt: sql`now()`,
            leaseToken: null,
            leaseExpiresAt: null,
            lockedBy: null,
          },
    )
    .where(ownsLease(job.id, leaseToken))
    .returning({ id: jobs.id });
  if (updated.length === 0) return 'lost';
  return finalFailure ? 'failed' : 'retry';
}

/** Gives a job back to the queue at once, without counting the attempt (the worker is shutting down). */
export async function releaseJobUnscoped(tx: AppTx, jobId: string, leaseToken: string): Promise<boolean> {
  const released = await tx
    .update(jobs)
    .set({ status: 'queued', attempts: sql`greatest(${jobs.attempts} - 1, 0)`, runAt: sql`now()`, updatedAt: sql`now()`, leaseToken: null, leaseExpiresAt: null, lockedBy: null })
    .where(ownsLease(jobId, leaseToken))
    .returning({ id: jobs.id });
  return released.length === 1;
}
