import { and, eq, sql } from 'drizzle-orm';
import { queryRows, type AppTx } from '../db/client.ts';
import { chunkEmbeddings, chunks, documents } from '../db/schema/index.ts';
import type { TenantContext } from '../db/tenancy.ts';
import { foldAccents, type Analyzer } from './analysis/text-analysis.ts';
import type { Chunk } from './chunker.ts';
import { addToSourceCounters } from './sources.repo.ts';

/** A chunk as the chunker made it, with what indexing adds. */
export interface ChunkToIndex extends Chunk {
  language: string;
  analyzer: Analyzer;
  /** What the lexical index sees: title and headings before the text, so they count as terms. */
  lexicalText: string;
  /** Vectors by model key, computed before the transaction. */
  embeddings: Record<string, number[]>;
}

export interface DocumentVersionToIndex {
  documentId: string;
  dataSourceId: string;
  version: number;
  title: string;
  mimeType: string;
  language: string;
  pages: number | null;
  wordCount: number;
  chunks: ChunkToIndex[];
}

/**
 * Replaces a document's searchable content with one version, in the caller's transaction: the old
 * chunks (with their postings and vectors) go, the new ones come, the counters move by the
 * difference. A search sees either the old version or the new one, never a mix or both.
 * Returns false (and changes nothing) when a newer version arrived meanwhile.
 */
export async function replaceDocumentChunks(tx: AppTx, tenant: TenantContext, input: DocumentVersionToIndex): Promise<boolean> {
  const [document] = await tx
    .select()
    .from(documents)
    .where(and(eq(documents.organizationId, tenant.organizationId), eq(documents.id, input.documentId)))
    .for('update');
  if (!document || document.version !== input.version) return false;
  const [old] = await queryRows<{ chunks: number; length: number }>(tx, sql`
    select count(*)::int as chunks, coalesce(sum(lexical_length), 0)::int as length
    from ${chunks} where organization_id = ${tenant.organizationId} and document_id = ${input.documentId}`);
  await forgetTermFrequencies(tx, tenant, input.documentId);
  await tx.delete(chunks).where(and(eq(chunks.organizationId, tenant.organizationId), eq(chunks.documentId, input.documentId)));

  let lexicalLength = 0;
  if (input.chunks.length > 0) {
    const inserted = await tx
      .insert(chunks)
      .values(
        input.chunks.map((chunk) => ({
          organizationId: tenant.organizationId,
          dataSourceId: input.dataSourceId,
          documentId: input.documentId,
          documentVersion: input.version,
          ordinal: chunk.ordinal,
          text: chunk.text,
          headingPath: chunk.headingPath,
          pageStart: chunk.pageStart,
          pageEnd: chunk.pageEnd,
          tokenCount: chunk.tokenCount,
          language: chunk.language,
        })),
      )
      .returning({ id: chunks.id, ordinal: chunks.ordinal });
    const idByOrdinal = new Map(inserted.map((row) => [row.ordinal, row.id]));
    lexicalLength = await indexPostings(
      tx,
      tenant,
      input.dataSourceId,
      input.chunks.map((chunk) => ({ chunkId: idByOrdinal.get(chunk.ordinal) ?? '', analyzer: chunk.analyzer, text: chunk.lexicalText })),
    );
    const vectors = input.chunks.flatMap((chunk) =>
      Object.entries(chunk.embeddings).map(([modelKey, embedding]) => ({
        chunkId: idByOrdinal.get(chunk.ordinal) ?? '',
        modelKey,
        organizationId: tenant.organizationId,
        dataSourceId: input.dataSourceId,
        embedding,
      })),
    );
    if (vectors.length > 0) await tx.insert(chunkEmbeddings).values(vectors);
  }

  const wasIndexed = document.indexedVersion !== null;
  await tx
    .update(documents)
    .set({
      status: 'ready',
      failureReason: null,
      indexedVersion: input.version,
      title: input.title,
      mimeType: input.mimeType,
      language: input.language,
      pages: input.pages,
      chunkCount: input.chunks.length,
      wordCount: input.wordCount,
      updatedAt: sql`now()`,
    })
    .where(eq(documents.id, input.documentId));
  await addToSourceCounters(tx, tenant, input.dataSourceId, {
    documents: wasIndexed ? 0 : 1,
    words: input.wordCount - (wasIndexed ? document.wordCount : 0),
    chunks: input.chunks.length - (old?.chunks ?? 0),
    lexicalLength: lexicalLength - (old?.length ?? 0),
  });
  return true;
}

/**
 * Analyses chunk texts with PostgreSQL's text-search configurations (stemming, stop words) and
 * writes their postings: one row per (chunk, term) with the term frequency and chunk length.
 * Returns the total length added.
 */
async function indexPostings(tx: AppTx, tenant: TenantContext, dataSourceId: string, items: { chunkId: string; analyzer: Analyzer; text: string }[]): Promise<number> {
  const payload = JSON.stringify(items.map((item) => ({ chunk_id: item.chunkId, analyzer: item.analyzer, body: foldAccents(item.text) })));
  const [result] = await queryRows<{ length: number }>(tx, sql`
    with input as (
      select * from jsonb_to_recordset(${payload}::jsonb) as x(chunk_id uuid, analyzer text, body text)
    ), lexemes as (
      select i.chunk_id, i.analyzer, l.lexeme, coalesce(array_length(l.positions, 1), 1) as tf
      from input i cross join lateral unnest(to_tsvector(i.analyzer::regconfig, i.body)) as l
    ), lengths as (
      select chunk_id, sum(tf)::int as length from lexemes group by chunk_id
    ), set_lengths as (
      update chunks c set lexical_length = lengths.length from lengths
      where c.id = lengths.chunk_id and c.organization_id = ${tenant.organizationId}
      returning c.id
    ), postings as (
      insert into chunk_terms (organization_id, data_source_id, chunk_id, analyzer, term, term_frequency, chunk_length)
      select ${tenant.organizationId}, ${dataSourceId}, x.chunk_id, x.analyzer, x.lexeme, least(x.tf, 32767), lengths.length
      from lexemes x join lengths using (chunk_id)
      returning 1
    ), frequencies as (
      -- Rows locked in one order by every writer, so concurrent indexers wait instead of deadlocking.
      insert into term_stats (organization_id, data_source_id, analyzer, term, document_frequency)
      select ${tenant.organizationId}, ${dataSourceId}, analyzer, lexeme, count(*)::int from lexemes
      group by analyzer, lexeme order by analyzer, lexeme
      on conflict (organization_id, analyzer, term, data_source_id) do update set document_frequency = term_stats.document_frequency + excluded.document_frequency
      returning 1
    )
    select coalesce((select sum(length) from lengths), 0)::int as length, (select count(*) from postings) as postings,
           (select count(*) from set_lengths) as chunks, (select count(*) from frequencies) as terms`);
  return result?.length ?? 0;
}

/** Removes a document and everything derived from it (chunks, postings, vectors), with the counters. */
export async function deleteDocumentAndChunks(tx: AppTx, tenant: TenantContext, documentId: string): Promise<boolean> {
  const [document] = await tx
    .select()
    .from(documents)
    .where(and(eq(documents.organizationId, tenant.organizationId), eq(documents.id, documentId)))
    .for('update');
  if (!document) return false;
  const [old] = await queryRows<{ chunks: number; length: number }>(tx, sql`
    select count(*)::int as chunks, coalesce(sum(lexical_length), 0)::int as length
    from ${chunks} where organization_id = ${tenant.organizationId} and document_id = ${documentId}`);
  await forgetTermFrequencies(tx, tenant, documentId);
  await tx.delete(documents).where(eq(documents.id, documentId));
  const wasIndexed = document.indexedVersion !== null;
  await addToSourceCounters(tx, tenant, document.dataSourceId, {
    documents: wasIndexed ? -1 : 0,
    words: wasIndexed ? -document.wordCount : 0,
    chunks: -(old?.chunks ?? 0),
    lexicalLength: -(old?.length ?? 0),
  });
  return true;
}

/** Removes a document's postings from the document frequencies, before its chunks are deleted. */
async function forgetTermFrequencies(tx: AppTx, tenant: TenantContext, documentId: string): Promise<void> {
  await tx.execute(sql`
    with old as (
      select p.data_source_id, p.analyzer, p.term, count(*)::int as n
      from chunks c join chunk_terms p on p.chunk_id = c.id
      where c.organization_id = ${tenant.organizationId} and c.document_id = ${documentId}
      group by p.data_source_id, p.analyzer, p.term
      order by p.analyzer, p.term
    )
    update term_stats s set document_frequency = s.document_frequency - old.n
    from old
    where s.organization_id = ${tenant.organizationId} and s.analyzer = old.analyzer and s.term = old.term and s.data_source_id = old.data_source_id`);
}
