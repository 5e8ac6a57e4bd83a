import { spawn } from 'node:child_process';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testEngine, type TestDatabase } from '../../../test/support/db.ts';
import { jobs, organizations, type Job } from '../../db/schema/index.ts';
import { withTenant, withUnscoped } from '../../db/tenancy.ts';
import { retryDelayMs } from './backoff.ts';
import { claimNextJobUnscoped, enqueueJob, findJob, recoverExpiredLeasesUnscoped } from './jobs.repo.ts';
import { JobRunner, PermanentJobError } from './runner.ts';

const noDelay = () => 0;

async function jobById(database: TestDatabase, id: string): Promise<Job> {
  const [job] = await withUnscoped(database.db, (tx) => tx.select().from(jobs).where(eq(jobs.id, id)));
  if (!job) throw new Error(`job ${id} not found`);
  return job;
}

async function enqueuePlatformJob(database: TestDatabase, kind: string, payload: Record<string, unknown> = {}, maxAttempts = 5) {
  return withUnscoped(database.db, (tx) => enqueueJob(tx, null, { kind, payload, maxAttempts }));
}

describe('durable jobs', () => {
  let database: TestDatabase;
  let orgId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    const [org] = await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: 'Org', slug: 'org' }).returning());
    orgId = org!.id;
  });
  afterAll(() => database.close());

  it('an idempotency key makes a second enqueue return the first job', async () => {
    const first = await withTenant(database.db, { organizationId: orgId }, (tx) =>
      enqueueJob(tx, orgId, { kind: 'reindex', idempotencyKey: 'source-1', payload: { n: 1 } }),
    );
    const second = await withTenant(database.db, { organizationId: orgId }, (tx) =>
      enqueueJob(tx, orgId, { kind: 'reindex', idempotencyKey: 'source-1', payload: { n: 2 } }),
    );
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.job.id).toBe(first.job.id);
    expect(second.job.payload).toEqual({ n: 1 });
  });

  it('a job enqueued in a transaction that rolls back does not exist', async () => {
    await expect(
      withUnscoped(database.db, async (tx) => {
        await enqueueJob(tx, null, { kind: 'never', idempotencyKey: 'rolled-back' });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    const rows = await withUnscoped(database.db, (tx) => tx.select().from(jobs).where(eq(jobs.kind, 'never')));
    expect(rows).toHaveLength(0);
  });

  it('runs a job, records its progress and result, readable by its organisation only', async () => {
    const { job } = await withTenant(database.db, { organizationId: orgId }, (tx) => enqueueJob(tx, orgId, { kind: 'count', payload: { to: 3 } }));
    const runner = new JobRunner(database.db, { concurrency: 1, leaseMs: 5_000 }).register('count', async ({ job: running, reportProgress }) => {
      const to = (running.payload as { to: number }).to;
      for (let i = 1; i <= to; i++) await reportProgress(i, to);
      return { counted: to };
    });
    await runner.drain();
    const done = await withTenant(database.db, { organizationId: orgId }, (tx) => findJob(tx, { organizationId: orgId }, job.id));
    expect(done).toMatchObject({ status: 'succeeded', progressDone: 3, progressTotal: 3, result: { counted: 3 }, attempts: 1 });
    const [other] = await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: 'Other', slug: 'other' }).returning());
    const seenByOther = await withTenant(database.db, { organizationId: other!.id }, (tx) => findJob(tx, { organizationId: other!.id }, job.id));
    expect(seenByOther).toBeUndefined();
  });

  it('a job that always fails ends as failed with its error after the configured attempts', async () => {
    const { job } = await enqueuePlatformJob(database, 'always-fails', {}, 3);
    let calls = 0;
    const runner = new JobRunner(database.db, { concurrency: 1, leaseMs: 5_000, retryDelayMs: noDelay }).register('always-fails', async () => {
      calls += 1;
      throw new Error(`provider unreachable (call ${calls})`);
    });
    await runner.drain();
    const failed = await jobById(database, job.id);
    expect(calls).toBe(3);
    expect(failed).toMatchObject({ status: 'failed', attempts: 3, lastError: 'Error: provider unreachable (call 3)' });
    expect(failed.finishedAt).not.toBeNull();
  });

  it('retries after a delay that grows, and succeeds when the cause is gone', async () => {
    const { job } = await enqueuePlatformJob(database, 'flaky');
    let calls = 0;
    const runner = new JobRunner(database.db, { concurrency: 1, leaseMs: 5_000, retryDelayMs: (attempt) => (attempt === 1 ? 0 : 60_000) }).register(
      'flaky',
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('temporarily down');
        return 'ok';
      },
    );
    await runner.drain(); // attempt 1 fails (retry now), attempt 2 fails (retry in a minute): not due yet
    const waiting = await jobById(database, job.id);
    expect(waiting).toMatchObject({ status: 'queued', attempts: 2, lastError: 'Error: temporarily down' });
    expect(waiting.runAt.getTime()).toBeGreaterThan(Date.now() + 50_000);
    await withUnscoped(database.db, (tx) => tx.update(jobs).set({ runAt: new Date() }).where(eq(jobs.id, job.id)));
    await runner.drain();
    expect(await jobById(database, job.id)).toMatchObject({ status: 'succeeded', attempts: 3 });
  });

  it('a permanent error fails at once, without retries', async () => {
    const { job } = await enqueuePlatformJob(database, 'bad-payload');
    const runner = new JobRunner(database.db, { concurrency: 1, leaseMs: 5_000, retryDelayMs: noDelay }).register('bad-payload', async () => {
      throw new PermanentJobError('payload names a document that does not exist');
    });
    await runner.drain();
    expect(await jobById(database, job.id)).toMatchObject({ status: 'failed', attempts: 1, lastError: 'PermanentJobError: payload names a document that does not exist' });
  });

  it('a job whose worker stopped renewing its lease is retried by another worker', async () => {
    const { job } = await enqueuePlatformJob(database, 'abandoned');
    // A worker claims the job with a short lease and then never reports back (it died).
    const claimed = await withUnscoped(database.db, (tx) => claimNextJobUnscoped(tx, ['abandoned'], 'dead-worker', 200));
    expect(claimed?.id).toBe(job.id);
    const survivor = new JobRunner(database.db, { concurrency: 1, leaseMs: 5_000 }).register('abandoned', async () => 'recovered');
    expect(await survivor.drain()).toBe(0); // lease still valid: nobody else may take it
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await survivor.drain()).toBe(1);
    const recovered = await jobById(database, job.id);
    expect(recovered).toMatchObject({ status: 'succeeded', attempts: 2, result: 'recovered' });
  });

  it('a worker that lost its lease cannot overwrite the job', async () => {
    const { job } = await enqueuePlatformJob(database, 'slow');
    let release: () => void = () => undefined;
    const slow = new JobRunner(database.db, { concurrency: 1, leaseMs: 150 }).register('slow', async ({ signal }) => {
      await new Promise<void>((resolve) => (release = resolve));
      return signal.aborted ? 'late' : 'on time';
    });
    const running = slow.runNext();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The slow worker froze past its lease (as a paused VM would): expire it and recover it at once,
    // in one transaction so its heartbeat cannot renew in between.
    await withUnscoped(database.db, async (tx) => {
      await tx.update(jobs).set({ leaseExpiresAt: new Date(Date.now() - 1000) }).where(eq(jobs.id, job.id));
      expect(await recoverExpiredLeasesUnscoped(tx)).toBe(1);
    });
    const other = new JobRunner(database.db, { concurrency: 1, leaseMs: 5_000 }).register('slow', async () => 'taken over');
    expect(await other.drain()).toBe(1);
    release();
    await running;
    expect(await jobById(database, job.id)).toMatchObject({ status: 'succeeded', result: 'taken over', attempts: 2 });
  });

  it('two workers on one database never run a job twice', async () => {
    const second = testEngine() === 'postgres' ? await database.openAnother() : undefined;
    const total = 60;
    await withUnscoped(database.db, async (tx) => {
      for (let i = 0; i < total; i++) await enqueueJob(tx, null, { kind: 'exactly-once', payload: { i } });
    });
    const runs = new Map<number, number>();
    const handler = async ({ job }: { job: Job }) => {
      const i = (job.payload as { i: number }).i;
      runs.set(i, (runs.get(i) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, 5));
    };
    const workers = [
      new JobRunner(database.db, { concurrency: 4, leaseMs: 10_000, pollIntervalMs: 20, workerId: 'w1' }).register('exactly-once', handler),
      new JobRunner((second ?? database).db, { concurrency: 4, leaseMs: 10_000, pollIntervalMs: 20, workerId: 'w2' }).register('exactly-once', handler),
    ];
    for (const worker of workers) worker.start();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const left = await withUnscoped(database.db, (tx) => tx.select({ id: jobs.id }).from(jobs).where(eq(jobs.kind, 'exactly-once')));
      const done = await withUnscoped(database.db, (tx) => tx.select({ id: jobs.id, by: jobs.lockedBy }).from(jobs).where(eq(jobs.status, 'succeeded')));
      if (done.filter((d) => left.some((l) => l.id === d.id)).length === total) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await Promise.all(workers.map((w) => w.stop()));
    await second?.close();
    expect(runs.size).toBe(total);
    expect([...runs.values()].every((count) => count === 1)).toBe(true);
    const finished = await withUnscoped(database.db, (tx) => tx.select().from(jobs).where(eq(jobs.kind, 'exactly-once')));
    expect(finished.every((j) => j.status === 'succeeded' && j.attempts === 1)).toBe(true);
    if (testEngine() === 'postgres') expect(new Set(finished.map((j) => j.lockedBy))).toEqual(new Set(['w1', 'w2']));
  });

  it.runIf(testEngine() === 'postgres')('a worker process killed mid-job leaves the job to be retried', async () => {
    const { job } = await enqueuePlatformJob(database, 'crash-test');
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/job-worker-child.ts', database.url!], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes(`claimed ${job.id}`) && resolve());
      child.on('exit', (code) => reject(new Error(`worker exited early (${code})`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    expect(await jobById(database, job.id)).toMatchObject({ status: 'running', lockedBy: 'doomed-worker', attempts: 1 });
    const survivor = new JobRunner(database.db, { concurrency: 1, leaseMs: 5_000 }).register('crash-test', async () => 'finished by survivor');
    const deadline = Date.now() + 10_000;
    while ((await survivor.drain()) === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await jobById(database, job.id)).toMatchObject({ status: 'succeeded', attempts: 2, result: 'finished by survivor' });
  });
});

describe('retry delay', () => {
  it('grows exponentially with jitter and stays under the cap', () => {
    expect(retryDelayMs(1, 1000, 60_000, () => 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, () => 1)).toBe(1000);
    expect(retryDelayMs(4, 1000, 60_000, () => 1)).toBe(8000);
    expect(retryDelayMs(30, 1000, 60_000, () => 1)).toBe(60_000);
  });
});
