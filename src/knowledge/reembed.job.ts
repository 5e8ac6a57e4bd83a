import { auditKnowledgeChange, type KnowledgeActor } from './knowledge-audit.ts';
import { withTenant, type TenantContext } from '../db/tenancy.ts';
import { AppError } from '../http/errors.ts';
import { enqueueJob } from '../ops/jobs/jobs.repo.ts';
import type { JobContext } from '../ops/jobs/runner.ts';
import { PermanentJobError } from '../ops/jobs/runner.ts';
import { chunkEmbeddings, type Job } from '../db/schema/index.ts';
import { activateIndex, chunksMissingEmbedding, countChunks, currentEmbeddingIndexes, startBuildingIndex } from './embedding-indexes.repo.ts';
import { embeddingText } from './ingest.job.ts';
import type { KnowledgeDeps } from './knowledge-deps.ts';

export const REEMBED_JOB = 'knowledge.reembed';

/**
 * Chooses the organisation's embedding model. The current vectors keep serving while the new
 * model's are computed in the background; the switch happens in one transaction at the end.
 */
export async function changeEmbeddingModel(
  deps: KnowledgeDeps,
  tenant: TenantContext,
  modelKey: string,
  actor: KnowledgeActor,
): Promise<{ job: Job | null; status: 'active' | 'building' }> {
  const provider = await deps.resolveEmbeddingProvider?.(tenant.organizationId, modelKey);
  if (!provider) throw new AppError('validation_failed', 'Unknown embedding model', { errors: [{ field: 'modelKey', message: 'no embedding model with this key is configured for the organisation' }] });
  return withTenant(deps.db, tenant, async (tx) => {
    const { active, building } = await currentEmbeddingIndexes(tx, tenant);
    if (active?.modelKey === modelKey && !building) return { job: null, status: 'active' as const };
    const index = await startBuildingIndex(tx, tenant, modelKey, provider.dimension);
    await auditKnowledgeChange(tx, tenant, actor, { action: 'embedding_model.change_started', targetType: 'embedding_index', targetId: index.id, details: { modelKey, previous: active?.modelKey ?? null } });
    const { job } = await enqueueJob(tx, tenant.organizationId, { kind: REEMBED_JOB, payload: { modelKey }, idempotencyKey: `${index.id}:${index.createdAt.toISOString()}:${Date.now()}`, maxAttempts: 10 });
    return { job, status: 'building' as const };
  });
}

export function reembedJobHandler(deps: KnowledgeDeps) {
  return async ({ job, signal, reportProgress }: JobContext) => {
    if (!job.organizationId) throw new PermanentJobError('a re-embedding job needs an organisation');
    const tenant: TenantContext = { organizationId: job.organizationId };
    const { modelKey } = job.payload as { modelKey: string };
    const provider = await deps.resolveEmbeddingProvider?.(tenant.organizationId, modelKey);
    if (!provider) throw new PermanentJobError(`embedding model ${modelKey} is no longer configured`);
    const batchSize = deps.embeddingBatchSize ?? 32;
    for (;;) {
      signal.throwIfAborted();
      const step = await withTenant(deps.db, tenant, async (tx) => {
        const { building } = await currentEmbeddingIndexes(tx, tenant);
        if (building?.modelKey !== modelKey) return { abandoned: true as const };
        const counts = await countChunks(tx, tenant);
        return { abandoned: false as const, batch: await chunksMissingEmbedding(tx, tenant, modelKey, batchSize), total: counts.total, done: await counts.embedded(modelKey) };
      });
      if (step.abandoned) return { abandoned: true };
      await reportProgress(step.done, step.total);
      if (step.batch.length === 0) {
        // Activation re-checks inside its transaction: chunks indexed meanwhile without the new vector send us round again.
        const activated = await withTenant(deps.db, tenant, async (tx) => {
          const { building } = await currentEmbeddingIndexes(tx, tenant);
          if (building?.modelKey !== modelKey) return true;
          if ((await chunksMissingEmbedding(tx, tenant, modelKey, 1)).length > 0) return false;
          await activateIndex(tx, tenant, building);
          return true;
        });
        if (activated) return { modelKey, embedded: step.done };
        continue;
      }
      const vectors = await provider.embed(step.batch.map((chunk) => embeddingText(chunk.title, chunk.heading_path, chunk.text)), { purpose: 'document', signal });
      await withTenant(deps.db, tenant, (tx) =>
        tx
          .insert(chunkEmbeddings)
          .values(step.batch.flatMap((chunk, i) => (vectors[i] ? [{ chunkId: chunk.id, modelKey, organizationId: tenant.organizationId, dataSourceId: chunk.data_source_id, embedding: vectors[i] }] : [])))
          .onConflictDoNothing(),
      );
    }
  };
}
