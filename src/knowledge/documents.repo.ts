import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import type { AppTx } from '../db/client.ts';
import { documentFiles, documents, type DocumentRow } from '../db/schema/index.ts';
import type { TenantContext } from '../db/tenancy.ts';

export interface IncomingDocument {
  externalKey: string;
  title: string;
  contentHash: string;
  sizeBytes: number;
  bytes: Buffer;
  metadata?: Record<string, unknown>;
}

/**
 * Records a document's arrival. Same key and same hash: nothing changes. Same key, new hash: a
 * new version, pending (its chunks replace the old ones only when it is indexed). New key: a new
 * document. Returns the row and whether work is needed.
 */
export async function upsertIncomingDocument(tx: AppTx, tenant: TenantContext, dataSourceId: string, incoming: IncomingDocument): Promise<{ document: DocumentRow; changed: boolean }> {
  const [existing] = await tx
    .select()
    .from(documents)
    .where(and(eq(documents.organizationId, tenant.organizationId), eq(documents.dataSourceId, dataSourceId), eq(documents.externalKey, incoming.externalKey)))
    .for('update');
  if (existing && existing.contentHash === incoming.contentHash && existing.status !== 'failed') return { document: existing, changed: false };
  let document: DocumentRow | undefined;
  if (existing) {
    [document] = await tx
      .update(documents)
      .set({
        title: incoming.title,
        contentHash: incoming.contentHash,
        sizeBytes: incoming.sizeBytes,
        version: existing.version + 1,
        status: 'pending',
        failureReason: null,
        metadata: incoming.metadata ?? existing.metadata,
        updatedAt: sql`now()`,
      })
      .where(eq(documents.id, existing.id))
      .returning();
  } else {
    [document] = await tx
      .insert(documents)
      .values({
        organizationId: tenant.organizationId,
        dataSourceId,
        externalKey: incoming.externalKey,
        title: incoming.title,
        contentHash: incoming.contentHash,
        sizeBytes: incoming.sizeBytes,
        metadata: incoming.metadata ?? {},
      })
      .returning();
  }
  if (!document) throw new Error('document upsert returned nothing');
  await tx
    .insert(documentFiles)
    .values({ documentId: document.id, organizationId: tenant.organizationId, version: document.version, bytes: incoming.bytes })
    .onConflictDoUpdate({ target: documentFiles.documentId, set: { version: document.version, bytes: incoming.bytes } });
  return { document, changed: true };
}

export async function findDocument(tx: AppTx, tenant: TenantContext, id: string, options: { forUpdate?: boolean } = {}): Promise<DocumentRow | undefined> {
  const query = tx.select().from(documents).where(and(eq(documents.organizationId, tenant.organizationId), eq(documents.id, id)));
  const [row] = options.forUpdate ? await query.for('update') : await query;
  return row;
}

export async function findDocumentFile(tx: AppTx, tenant: TenantContext, documentId: string): Promise<{ version: number; bytes: Buffer } | undefined> {
  const [row] = await tx
    .select({ version: documentFiles.version, bytes: documentFiles.bytes })
    .from(documentFiles)
    .where(and(eq(documentFiles.organizationId, tenant.organizationId), eq(documentFiles.documentId, documentId)));
  return row ? { version: row.version, bytes: Buffer.from(row.bytes) } : undefined;
}

export async function listDocuments(tx: AppTx, tenant: TenantContext, dataSourceId: string, page: { limit: number; offset: number }): Promise<DocumentRow[]> {
  return tx
    .select()
    .from(documents)
    .where(and(eq(documents.organizationId, tenant.organizationId), eq(documents.dataSourceId, dataSourceId)))
    .orderBy(desc(documents.createdAt), documents.id)
    .limit(page.limit)
    .offset(page.offset);
}

export async function listDocumentsByIds(tx: AppTx, tenant: TenantContext, ids: string[]): Promise<DocumentRow[]> {
  if (ids.length === 0) return [];
  return tx.select().from(documents).where(and(eq(documents.organizationId, tenant.organizationId), inArray(documents.id, ids)));
}

export async function markDocument(tx: AppTx, tenant: TenantContext, id: string, version: number, patch: { status: 'processing' | 'failed'; failureReason?: string; mimeType?: string | null }): Promise<void> {
  await tx
    .update(documents)
    .set({ status: patch.status, failureReason: patch.failureReason ?? null, ...(patch.mimeType !== undefined ? { mimeType: patch.mimeType } : {}), updatedAt: sql`now()` })
    .where(and(eq(documents.organizationId, tenant.organizationId), eq(documents.id, id), eq(documents.version, version)));
}

/** Marks the documents of a batch as being processed (those still pending at the version asked). */
export async function markBatchProcessing(tx: AppTx, tenant: TenantContext, items: { id: string; version: number }[]): Promise<void> {
  if (items.length === 0) return;
  const payload = JSON.stringify(items);
  await tx.execute(sql`
    update documents d set status = 'processing', updated_at = now()
    from jsonb_to_recordset(${payload}::jsonb) as x(id uuid, version int)
    where d.organization_id = ${tenant.organizationId} and d.id = x.id and d.version = x.version and d.status = 'pending'`);
}
