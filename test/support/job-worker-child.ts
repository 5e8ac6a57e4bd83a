// A separate worker process for the crash test: claims one 'crash-test' job, says so, then waits
// to be killed (SIGKILL: no cleanup, no lease release), as a worker on a dying machine would.
import { openPostgres } from '../../src/db/client.ts';
import { JobRunner } from '../../src/ops/jobs/runner.ts';

const url = process.argv[2];
if (!url) throw new Error('usage: job-worker-child.ts <database url>');
const database = await openPostgres(url, 2);
const runner = new JobRunner(database.db, { concurrency: 1, leaseMs: 1_000, workerId: 'doomed-worker' });
runner.register('crash-test', async ({ job }) => {
  process.stdout.write(`claimed ${job.id}\n`);
  await new Promise(() => undefined);
});
await runner.runNext();
