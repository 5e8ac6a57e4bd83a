import { and, eq, inArray } from 'drizzle-orm';
import { chunks, dataSources, documents } from '../db/schema/index.ts';
import { withTenant, type TenantContext } from '../db/tenancy.ts';
import { currentEmbeddingIndexes } from './embedding-indexes.repo.ts';
import type { KnowledgeDeps } from './knowledge-deps.ts';
import { searchLexical, type ScoredChunk, type SearchFilters } from './lexical.repo.ts';
import { searchVectors } from './vectors.repo.ts';
import { AppError } from '../http/errors.ts';

export type RetrieverName = 'lexical' | 'vector';

export interface SearchRequest {
  query: string;
  topK: number;
  filters?: SearchFilters;
  /** Results scoring below are dropped: BM25 score when lexical only, fused RRF score when hybrid. */
  minScore?: number;
  /** Candidates per retriever before fusion. */
  candidates?: number;
}

export interface SearchResult {
  chunkId: string;
  text: string;
  headingPath: string[];
  pageStart: number | null;
  pageEnd: number | null;
  score: number;
  retrievers: RetrieverName[];
  ranks: Partial<Record<RetrieverName, number>>;
  document: { id: string; title: string; externalKey: string };
  dataSource: { id: string; name: string };
}

/** Reciprocal rank fusion constant (Cormack et al. 2009): damps the weight of top ranks. */
const RRF_K = 60;

/**
 * Hybrid retrieval: BM25 and, when the organisation has a serving embedding model, exact
 * vector search; the two ranked lists are fused by reciprocal rank fusion.
 */
export async function retrieve(deps: KnowledgeDeps, tenant: TenantContext, request: SearchRequest): Promise<SearchResult[]> {
  return (await retrieveWithStatus(deps, tenant, request)).results;
}

/** Whether vectors took part: not configured, used, or unavailable (the provider failed or was too slow). */
export type VectorSearchStatus = 'not_configured' | 'used' | 'unavailable';

/** A search waits this long for the query's embedding before answering with BM25 alone. */
export const DEFAULT_QUERY_EMBEDDING_TIMEOUT_MS = 5_000;

export async function retrieveWithStatus(
  deps: KnowledgeDeps,
  tenant: TenantContext,
  request: SearchRequest,
): Promise<{ results: SearchResult[]; vectorSearch: VectorSearchStatus }> {
  const { lexical, active, candidates } = await withTenant(deps.db, tenant, async (tx) => {
    const serving = (await currentEmbeddingIndexes(tx, tenant)).active;
    // Fusion needs deeper lists than the answer; lexical alone needs exactly top-k (cheaper for BM25's pruning).
    const depth = serving && deps.resolveEmbeddingProvider ? Math.max(request.candidates ?? request.topK * 4, request.topK) : request.topK;
    return {
      active: serving,
      candidates: depth,
      lexical: await searchLexical(tx, tenant, request.query, { limit: depth, filters: request.filters, bm25: deps.bm25 }),
    };
  });
  let vector: ScoredChunk[] = [];
  let vectorSearch: VectorSearchStatus = 'not_configured';
  if (active && deps.resolveEmbeddingProvider) {
    const queryVector = await embedQueryWithin(deps, tenant, active.modelKey, request.query);
    vectorSearch = queryVector ? 'used' : 'unavailable';
    if (queryVector) vector = await withTenant(deps.db, tenant, (tx) => searchVectors(tx, tenant, active.modelKey, queryVector, { limit: candidates, filters: request.filters }));
  }
  const fused = vector.length === 0 ? lexicalOnly(lexical) : fuse({ lexical, vector });
  const kept = fused.filter((item) => request.minScore === undefined || item.score >= request.minScore).slice(0, request.topK);
  return { results: await hydrate(deps, tenant, kept), vectorSearch };
}

/**
 * The query's embedding, or undefined when the provider fails or is slower than the deadline: a
 * search still answers (BM25 alone, said so in its status) rather than wait on a stalled provider.
 * A policy refusal is not an outage: it is raised, so the caller sees why.
 */
async function embedQueryWithin(deps: KnowledgeDeps, tenant: TenantContext, modelKey: string, query: string): Promise<number[] | undefined> {
  const timeoutMs = deps.queryEmbeddingTimeoutMs ?? DEFAULT_QUERY_EMBEDDING_TIMEOUT_MS;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error(`query embedding took longer than ${timeoutMs} ms`));
      resolve(undefined);
    }, timeoutMs);
  });
  try {
    const embedding = (async () => {
      const provider = await deps.resolveEmbeddingProvider?.(tenant.organizationId, modelKey);
      const [vector] = (await provider?.embed([query], { purpose: 'query', signal: controller.signal })) ?? [];
      return vector;
    })();
    return await Promise.race([embedding.catch((error: unknown) => (error instanceof AppError ? Promise.reject(error) : undefined)), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

interface Fused {
  chunkId: string;
  score: number;
  ranks: Partial<Record<RetrieverName, number>>;
}

function lexicalOnly(lexical: ScoredChunk[]): Fused[] {
  return lexical.map((item, index) => ({ chunkId: item.chunkId, score: item.score, ranks: { lexical: index + 1 } }));
}

export function fuse(lists: Partial<Record<RetrieverName, ScoredChunk[]>>): Fused[] {
  const byChunk = new Map<string, Fused>();
  for (const [name, list] of Object.entries(lists) as [RetrieverName, ScoredChunk[]][]) {
    list.forEach((item, index) => {
      const entry = byChunk.get(item.chunkId) ?? { chunkId: item.chunkId, score: 0, ranks: {} };
      entry.score += 1 / (RRF_K + index + 1);
      entry.ranks[name] = index + 1;
      byChunk.set(item.chunkId, entry);
    });
  }
  return [...byChunk.values()].sort((a, b) => b.score - a.score || a.chunkId.localeCompare(b.chunkId));
}

async function hydrate(deps: KnowledgeDeps, tenant: TenantContext, items: Fused[]): Promise<SearchResult[]> {
  if (items.length === 0) return [];
  const rows = await withTenant(deps.db, tenant, (tx) =>
    tx
      .select({
        chunkId: chunks.id,
        text: chunks.text,
        headingPath: chunks.headingPath,
        pageStart: chunks.pageStart,
        pageEnd: chunks.pageEnd,
        documentId: documents.id,
        title: documents.title,
        externalKey: documents.externalKey,
        sourceId: dataSources.id,
        sourceName: dataSources.name,
      })
      .from(chunks)
      .innerJoin(documents, eq(documents.id, chunks.documentId))
      .innerJoin(dataSources, eq(dataSources.id, chunks.dataSourceId))
      .where(and(eq(chunks.organizationId, tenant.organizationId), inArray(chunks.id, items.map((item) => item.chunkId)))),
  );
  const byId = new Map(rows.map((row) => [row.chunkId, row]));
  return items.flatMap((item) => {
    const row = byId.get(item.chunkId);
    if (!row) return [];
    return [
      {
        chunkId: row.chunkId,
        text: row.text,
        headingPath: row.headingPath,
        pageStart: row.pageStart,
        pageEnd: row.pageEnd,
        score: item.score,
        retrievers: (Object.keys(item.ranks) as RetrieverName[]).sort(),
        ranks: item.ranks,
        document: { id: row.documentId, title: row.title, externalKey: row.externalKey },
        dataSource: { id: row.sourceId, name: row.sourceName },
      },
    ];
  });
}
