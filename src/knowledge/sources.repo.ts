import { and, desc, eq, sql } from 'drizzle-orm';
import type { AppTx } from '../db/client.ts';
import { dataSources, type DataSource } from '../db/schema/index.ts';
import type { TenantContext } from '../db/tenancy.ts';

export interface NewDataSource {
  name: string;
  description?: string;
  kind: 'manual' | 'web';
  settings?: Record<string, unknown>;
}

export async function insertDataSource(tx: AppTx, tenant: TenantContext, input: NewDataSource): Promise<DataSource | undefined> {
  const [created] = await tx
    .insert(dataSources)
    .values({ organizationId: tenant.organizationId, name: input.name, description: input.description ?? '', kind: input.kind, settings: input.settings ?? {} })
    .onConflictDoNothing()
    .returning();
  return created;
}

export async function findDataSource(tx: AppTx, tenant: TenantContext, id: string): Promise<DataSource | undefined> {
  const [row] = await tx.select().from(dataSources).where(and(eq(dataSources.organizationId, tenant.organizationId), eq(dataSources.id, id)));
  return row;
}

export async function listDataSources(tx: AppTx, tenant: TenantContext): Promise<DataSource[]> {
  return tx.select().from(dataSources).where(eq(dataSources.organizationId, tenant.organizationId)).orderBy(desc(dataSources.createdAt));
}

export async function updateDataSource(tx: AppTx, tenant: TenantContext, id: string, patch: Partial<Pick<DataSource, 'name' | 'description' | 'settings'>>): Promise<DataSource | undefined> {
  const [row] = await tx
    .update(dataSources)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(and(eq(dataSources.organizationId, tenant.organizationId), eq(dataSources.id, id)))
    .returning();
  return row;
}

/** Deleting a source cascades to its documents, chunks, postings and vectors. */
export async function deleteDataSource(tx: AppTx, tenant: TenantContext, id: string): Promise<boolean> {
  const rows = await tx
    .delete(dataSources)
    .where(and(eq(dataSources.organizationId, tenant.organizationId), eq(dataSources.id, id)))
    .returning({ id: dataSources.id });
  return rows.length === 1;
}

/** Applies deltas to a source's maintained counters, in the transaction that changed what they count. */
export async function addToSourceCounters(
  tx: AppTx,
  tenant: TenantContext,
  id: string,
  delta: { documents: number; words: number; chunks: number; lexicalLength: number },
): Promise<void> {
  await tx
    .update(dataSources)
    .set({
      documentCount: sql`${dataSources.documentCount} + ${delta.documents}`,
      wordCount: sql`${dataSources.wordCount} + ${delta.words}`,
      chunkCount: sql`${dataSources.chunkCount} + ${delta.chunks}`,
      lexicalLength: sql`${dataSources.lexicalLength} + ${delta.lexicalLength}`,
      lastSyncedAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(and(eq(dataSources.organizationId, tenant.organizationId), eq(dataSources.id, id)));
}
