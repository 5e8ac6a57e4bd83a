import { and, eq, sql } from 'drizzle-orm';
import { queryRows, type AppTx } from '../db/client.ts';
import { chunkEmbeddings, embeddingIndexes } from '../db/schema/index.ts';
import type { TenantContext } from '../db/tenancy.ts';

export type EmbeddingIndex = typeof embeddingIndexes.$inferSelect;

/** The serving index (searched) and the one being built (written by ingestion too, not searched yet). */
export async function currentEmbeddingIndexes(tx: AppTx, tenant: TenantContext): Promise<{ active?: EmbeddingIndex; building?: EmbeddingIndex }> {
  const rows = await tx
    .select()
    .from(embeddingIndexes)
    .where(and(eq(embeddingIndexes.organizationId, tenant.organizationId), sql`${embeddingIndexes.status} in ('active', 'building')`));
  return { active: rows.find((row) => row.status === 'active'), building: rows.find((row) => row.status === 'building') };
}

/** Starts building an index for a model; a previous unfinished build is abandoned with its vectors. */
export async function startBuildingIndex(tx: AppTx, tenant: TenantContext, modelKey: string, dimension: number): Promise<EmbeddingIndex> {
  const { building } = await currentEmbeddingIndexes(tx, tenant);
  if (building && building.modelKey !== modelKey) {
    await tx.update(embeddingIndexes).set({ status: 'retired' }).where(eq(embeddingIndexes.id, building.id));
    await tx.delete(chunkEmbeddings).where(and(eq(chunkEmbeddings.organizationId, tenant.organizationId), eq(chunkEmbeddings.modelKey, building.modelKey)));
  }
  const [row] = await tx
    .insert(embeddingIndexes)
    .values({ organizationId: tenant.organizationId, modelKey, dimension, status: 'building' })
    .onConflictDoUpdate({ target: [embeddingIndexes.organizationId, embeddingIndexes.modelKey], set: { status: 'building', dimension, activatedAt: null } })
    .returning();
  if (!row) throw new Error('embedding index upsert returned nothing');
  return row;
}

/** Chunks that still lack a vector of this model, oldest first. */
export async function chunksMissingEmbedding(tx: AppTx, tenant: TenantContext, modelKey: string, limit: number) {
  return queryRows<{ id: string; data_source_id: string; text: string; heading_path: string[]; title: string }>(tx, sql`
    select c.id, c.data_source_id, c.text, c.heading_path, d.title from chunks c join documents d on d.id = c.document_id
    where c.organization_id = ${tenant.organizationId}
      and not exists (select 1 from chunk_embeddings e where e.chunk_id = c.id and e.model_key = ${modelKey})
    order by c.created_at, c.id
    limit ${limit}`);
}

export async function countChunks(tx: AppTx, tenant: TenantContext): Promise<{ total: number; embedded: (modelKey: string) => Promise<number> }> {
  const [row] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from chunks where organization_id = ${tenant.organizationId}`);
  return {
    total: row?.n ?? 0,
    embedded: async (modelKey) => {
      const [embedded] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from chunk_embeddings where organization_id = ${tenant.organizationId} and model_key = ${modelKey}`);
      return embedded?.n ?? 0;
    },
  };
}

/**
 * Makes the built index the serving one, in one transaction: searches switch from the old model's
 * vectors to the new model's at commit, and the old vectors are removed in the same commit.
 */
export async function activateIndex(tx: AppTx, tenant: TenantContext, index: EmbeddingIndex): Promise<void> {
  const { active } = await currentEmbeddingIndexes(tx, tenant);
  if (active && active.id !== index.id) {
    await tx.update(embeddingIndexes).set({ status: 'retired' }).where(eq(embeddingIndexes.id, active.id));
    await tx.delete(chunkEmbeddings).where(and(eq(chunkEmbeddings.organizationId, tenant.organizationId), eq(chunkEmbeddings.modelKey, active.modelKey)));
  }
  await tx.update(embeddingIndexes).set({ status: 'active', activatedAt: sql`now()` }).where(eq(embeddingIndexes.id, index.id));
}
