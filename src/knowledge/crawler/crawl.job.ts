import { and, eq, sql } from 'drizzle-orm';
import type { AppTx } from '../../db/client.ts';
import { dataSources, documents, jobs } from '../../db/schema/index.ts';
import { withTenant, type TenantContext } from '../../db/tenancy.ts';
import { enqueueJob } from '../../ops/jobs/jobs.repo.ts';
import { PermanentJobError, type JobContext } from '../../ops/jobs/runner.ts';
import { deleteDocumentAndChunks } from '../index.repo.ts';
import { submitDocuments } from '../ingest.service.ts';
import type { KnowledgeDeps } from '../knowledge-deps.ts';
import { findDataSource } from '../sources.repo.ts';
import { crawlSite, type CrawlSettings } from './crawl.ts';

export const CRAWL_JOB = 'knowledge.crawl';

export interface WebSourceSettings {
  startUrl?: string;
  sitemapUrl?: string;
  maxDepth?: number;
  maxPages?: number;
  recrawlIntervalHours?: number;
  requestDelayMs?: number;
}

/** Enqueues a crawl of a web source (now, or at `runAt`), in the caller's transaction. */
export async function enqueueCrawl(tx: AppTx, tenant: TenantContext, dataSourceId: string, runAt?: Date) {
  const when = runAt ?? new Date();
  return enqueueJob(tx, tenant.organizationId, { kind: CRAWL_JOB, payload: { dataSourceId }, idempotencyKey: `${dataSourceId}:${when.toISOString()}`, runAt: when, maxAttempts: 3 });
}

/**
 * Crawls a web source, submits the pages it found (unchanged pages are recognised by their
 * content hash and not re-indexed), removes pages that are gone, and schedules the next crawl.
 */
export function crawlJobHandler(deps: KnowledgeDeps) {
  return async ({ job, signal }: JobContext) => {
    if (!job.organizationId) throw new PermanentJobError('a crawl needs an organisation');
    const tenant: TenantContext = { organizationId: job.organizationId };
    const { dataSourceId } = job.payload as { dataSourceId: string };
    const source = await withTenant(deps.db, tenant, async (tx) => {
      const found = await findDataSource(tx, tenant, dataSourceId);
      if (found?.kind === 'web') await setStatus(tx, tenant, dataSourceId, 'syncing', null);
      return found;
    });
    if (source?.kind !== 'web') return { skipped: 'not a web source (or deleted)' };
    const settings = source.settings as WebSourceSettings;
    const crawlSettings: CrawlSettings = {
      startUrl: settings.startUrl,
      sitemapUrl: settings.sitemapUrl,
      maxDepth: settings.maxDepth ?? 3,
      maxPages: settings.maxPages ?? 500,
      requestDelayMs: settings.requestDelayMs ?? 1000,
    };
    const result = await crawlSite(
      crawlSettings,
      { timeoutMs: deps.crawler?.timeoutMs ?? 15_000, maxBytes: deps.maxFileBytes, allowPrivateNetwork: deps.crawler?.allowPrivateNetwork ?? false, signal },
      (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    );
    const submission = result.pages.length
      ? await submitDocuments(deps, tenant, dataSourceId, result.pages.map((page) => ({ key: page.url, bytes: page.bytes, truncated: page.truncated })))
      : { job: null, documents: [] };
    const found = new Set(result.pages.map((page) => page.url));
    const gone = new Set([...result.gone, ...result.refusedByRobots]);
    const removed = await withTenant(deps.db, tenant, async (tx) => {
      const known = await tx
        .select({ id: documents.id, key: documents.externalKey })
        .from(documents)
        .where(and(eq(documents.organizationId, tenant.organizationId), eq(documents.dataSourceId, dataSourceId)));
      const toRemove = known.filter((doc) => !found.has(doc.key) && (gone.has(doc.key) || result.complete));
      for (const doc of toRemove) await deleteDocumentAndChunks(tx, tenant, doc.id);
      const failed = result.pages.length === 0 && result.errors.length > 0;
      await setStatus(tx, tenant, dataSourceId, failed ? 'error' : 'idle', failed ? `no page could be fetched: ${result.errors[0]?.reason ?? ''}` : null);
      // One scheduled crawl per source: a manual sync must not start a second chain of crawls.
      await tx
        .update(jobs)
        .set({ status: 'cancelled', finishedAt: sql`now()`, updatedAt: sql`now()` })
        .where(and(eq(jobs.organizationId, tenant.organizationId), eq(jobs.kind, CRAWL_JOB), eq(jobs.status, 'queued'), sql`${jobs.payload}->>'dataSourceId' = ${dataSourceId}`));
      const intervalHours = settings.recrawlIntervalHours ?? 24;
      await enqueueCrawl(tx, tenant, dataSourceId, new Date(Date.now() + intervalHours * 3_600_000));
      return toRemove.map((doc) => doc.key);
    });
    return {
      pages: result.pages.length,
      changed: submission.documents.filter((doc) => doc.changed).map((doc) => doc.key),
      removed,
      refusedByRobots: result.refusedByRobots,
      errors: result.errors,
      ingestJobId: submission.job?.id ?? null,
    };
  };
}

async function setStatus(tx: AppTx, tenant: TenantContext, id: string, status: 'idle' | 'syncing' | 'error', reason: string | null) {
  await tx
    .update(dataSources)
    .set({ status, statusReason: reason, ...(status === 'syncing' ? {} : { lastSyncedAt: sql`now()` }), updatedAt: sql`now()` })
    .where(and(eq(dataSources.organizationId, tenant.organizationId), eq(dataSources.id, id)));
}
