import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { AppDb } from '../../db/client.ts';
import type { Job } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { retryDelayMs } from './backoff.ts';
import {
  claimNextJobUnscoped,
  completeJobUnscoped,
  failAttemptUnscoped,
  recoverExpiredLeasesUnscoped,
  releaseJobUnscoped,
  renewLeaseUnscoped,
} from './jobs.repo.ts';

export interface JobContext {
  job: Job;
  /** Aborted when the runner stops or the lease is lost: stop work and return. */
  signal: AbortSignal;
  /** Records progress (done / total) and renews the lease. */
  reportProgress(done: number, total?: number): Promise<void>;
}

/** Handlers must be idempotent: after a crash, a job runs again from its start. */
export type JobHandler = (context: JobContext) => Promise<unknown>;

/** An error that retrying cannot fix (bad payload, missing resource): the job fails at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

export interface JobRunnerOptions {
  concurrency: number;
  leaseMs: number;
  pollIntervalMs?: number;
  workerId?: string;
  retryDelayMs?: (attempt: number) => number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
}

export class JobRunner {
  readonly workerId: string;
  private readonly handlers = new Map<string, JobHandler>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly controllers = new Set<AbortController>();
  private loop: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly db: AppDb,
    private readonly options: JobRunnerOptions,
  ) {
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  register(kind: string, handler: JobHandler): this {
    this.handlers.set(kind, handler);
    return this;
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.pollLoop();
  }

  /** Stops claiming, asks running handlers to stop, and waits for them (their jobs are retried if unfinished). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    for (const controller of this.controllers) controller.abort(new Error('worker stopping'));
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
    this.loop = undefined;
  }

  /** Claims and runs due jobs until none is left; returns how many ran. For the CLI and tests. */
  async drain(): Promise<number> {
    let ran = 0;
    await withUnscoped(this.db, (tx) => recoverExpiredLeasesUnscoped(tx));
    while (await this.runNext()) ran += 1;
    return ran;
  }

  /** Claims one due job and runs it to the end. Returns false when nothing was due. */
  async runNext(): Promise<boolean> {
    const job = await withUnscoped(this.db, (tx) => claimNextJobUnscoped(tx, [...this.handlers.keys()], this.workerId, this.options.leaseMs));
    if (!job) return false;
    await this.execute(job);
    return true;
  }

  private async pollLoop(): Promise<void> {
    const pollIntervalMs = this.options.pollIntervalMs ?? 500;
    let lastRecoveryMs = 0;
    while (!this.stopping) {
      try {
        if (Date.now() - lastRecoveryMs > Math.min(this.options.leaseMs, 10_000)) {
          const recovered = await withUnscoped(this.db, (tx) => recoverExpiredLeasesUnscoped(tx));
          if (recovered > 0) this.options.logger?.warn({ recovered }, 'jobs whose worker stopped were put back in the queue');
          lastRecoveryMs = Date.now();
        }
        let claimed = false;
        while (!this.stopping && this.inFlight.size < this.options.concurrency) {
          const job = await withUnscoped(this.db, (tx) => claimNextJobUnscoped(tx, [...this.handlers.keys()], this.workerId, this.options.leaseMs));
          if (!job) break;
          claimed = true;
          const running = this.execute(job)
            // A database failure while recording the outcome must not kill the process: the
            // lease expires and the job is run again.
            .catch((error: unknown) => this.options.logger?.error({ err: error, jobId: job.id }, 'job bookkeeping failed'))
            .finally(() => {
            this.inFlight.delete(running);
            this.wake?.();
          });
          this.inFlight.add(running);
        }
        if (!claimed || this.inFlight.size >= this.options.concurrency) await this.sleep(pollIntervalMs);
      } catch (error) {
        // The database may be briefly unreachable; keep polling rather than dying.
        this.options.logger?.error({ err: error }, 'job polling failed');
        await this.sleep(pollIntervalMs);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async execute(job: Job): Promise<void> {
    const leaseToken = job.leaseToken;
    if (!leaseToken) throw new Error(`job ${job.id} was claimed without a lease`);
    const controller = new AbortController();
    this.controllers.add(controller);
    const renew = async (progress?: { done: number; total?: number }) => {
      const kept = await withUnscoped(this.db, (tx) => renewLeaseUnscoped(tx, job.id, leaseToken, this.options.leaseMs, progress));
      if (!kept) controller.abort(new Error('lease lost'));
    };
    const heartbeat = setInterval(() => {
      renew().catch((error: unknown) => this.options.logger?.warn({ err: error, jobId: job.id }, 'lease renewal failed'));
    }, Math.max(50, Math.floor(this.options.leaseMs / 3)));
    try {
      const handler = this.handlers.get(job.kind);
      if (!handler) throw new PermanentJobError(`no handler for job kind ${job.kind}`);
      const result = await handler({ job, signal: controller.signal, reportProgress: (done, total) => renew({ done, total }) });
      clearInterval(heartbeat);
      const recorded = await withUnscoped(this.db, (tx) => completeJobUnscoped(tx, job.id, leaseToken, result));
      if (!recorded) this.options.logger?.warn({ jobId: job.id, kind: job.kind }, 'job finished after losing its lease: its result was discarded');
    } catch (error) {
      clearInterval(heartbeat);
      if (this.stopping && controller.signal.aborted) {
        // Interrupted by a shutdown, not failed: back to the queue without using an attempt.
        await withUnscoped(this.db, (tx) => releaseJobUnscoped(tx, job.id, leaseToken));
        return;
      }
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const retryInMs = error instanceof PermanentJobError ? null : (this.options.retryDelayMs ?? retryDelayMs)(job.attempts);
      const outcome = await withUnscoped(this.db, (tx) => failAttemptUnscoped(tx, job, leaseToken, message, retryInMs));
      this.options.logger?.warn({ jobId: job.id, kind: job.kind, attempt: job.attempts, outcome, error: message }, 'job attempt failed');
    } finally {
      clearInterval(heartbeat);
      this.controllers.delete(controller);
    }
  }
}
