import { auditKnowledgeChange, type KnowledgeActor } from './knowledge-audit.ts';
import { createHash } from 'node:crypto';
import type { Job } from '../db/schema/index.ts';
import { withTenant, type TenantContext } from '../db/tenancy.ts';
import { AppError } from '../http/errors.ts';
import { enqueueJob } from '../ops/jobs/jobs.repo.ts';
import { markDocument, upsertIncomingDocument } from './documents.repo.ts';
import type { KnowledgeDeps } from './knowledge-deps.ts';
import { findDataSource } from './sources.repo.ts';

export const INGEST_JOB = 'knowledge.ingest';

export interface SubmittedFile {
  /** Identity inside the source across versions (file name, URL, client id). */
  key: string;
  title?: string;
  bytes: Buffer;
  /** The transport cut the file at the size limit: recorded as failed, never half-indexed. */
  truncated?: boolean;
  metadata?: Record<string, unknown>;
}

export interface SubmissionResult {
  job: Job | null;
  documents: { id: string; key: string; status: string; changed: boolean; version: number; failureReason: string | null }[];
}

/**
 * Records a batch of files and enqueues one ingestion job for those that changed, in one
 * transaction: either the batch is recorded and will be processed, or nothing happened.
 * A file over the size limit is recorded as a failed document with the reason.
 */
export async function submitDocuments(
  deps: KnowledgeDeps,
  tenant: TenantContext,
  dataSourceId: string,
  files: SubmittedFile[],
  /** Who submitted, when a person or key did (uploads, pushes): the submission is audited. */
  actor?: KnowledgeActor,
): Promise<SubmissionResult> {
  return withTenant(deps.db, tenant, async (tx) => {
    const source = await findDataSource(tx, tenant, dataSourceId);
    if (!source) throw new AppError('not_found', 'No such data source');
    const documents: SubmissionResult['documents'] = [];
    const toProcess: { id: string; version: number }[] = [];
    for (const file of files) {
      const tooLarge = file.truncated || file.bytes.length > deps.maxFileBytes;
      const hash = createHash('sha256').update(file.bytes).digest('hex');
      const { document, changed } = await upsertIncomingDocument(tx, tenant, dataSourceId, {
        externalKey: file.key,
        title: file.title ?? file.key,
        contentHash: tooLarge ? `oversize:${hash}` : hash,
        sizeBytes: file.bytes.length,
        bytes: tooLarge ? Buffer.alloc(0) : file.bytes,
        metadata: file.metadata,
      });
      let status: string = document.status;
      let failureReason = document.failureReason;
      if (changed && tooLarge) {
        failureReason = `the file is over the size limit of ${deps.maxFileBytes} bytes`;
        await markDocument(tx, tenant, document.id, document.version, { status: 'failed', failureReason });
        status = 'failed';
      } else if (changed) {
        toProcess.push({ id: document.id, version: document.version });
      }
      documents.push({ id: document.id, key: file.key, status, changed, version: document.version, failureReason });
    }
    if (actor) {
      await auditKnowledgeChange(tx, tenant, actor, {
        action: 'documents.submitted',
        targetType: 'data_source',
        targetId: dataSourceId,
        details: { files: files.length, changed: documents.filter((d) => d.changed).length, keys: documents.slice(0, 50).map((d) => d.key) },
      });
    }
    if (toProcess.length === 0) return { job: null, documents };
    const idempotencyKey = createHash('sha256').update(toProcess.map((d) => `${d.id}@${d.version}`).join(',')).digest('hex');
    const { job } = await enqueueJob(tx, tenant.organizationId, {
      kind: INGEST_JOB,
      payload: { dataSourceId, documents: toProcess },
      idempotencyKey,
      maxAttempts: 5,
    });
    return { job, documents };
  });
}
