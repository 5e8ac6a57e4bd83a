import { sql } from 'drizzle-orm';
import { queryRows, type AppTx } from '../db/client.ts';
import type { TenantContext } from '../db/tenancy.ts';
import { uuidList, type ScoredChunk, type SearchFilters } from './lexical.repo.ts';

/**
 * Exact cosine search over one organisation's vectors of one model. `+ 0` keeps the planner
 * from an approximate index scan that filters afterwards (which silently returns too few rows
 * when the organisation holds a small share of the vectors); the btree on (organisation, model,
 * source) narrows the rows first. Score is cosine similarity.
 */
export async function searchVectors(
  tx: AppTx,
  tenant: TenantContext,
  modelKey: string,
  queryVector: number[],
  options: { limit: number; filters?: SearchFilters },
): Promise<ScoredChunk[]> {
  const literal = `[${queryVector.join(',')}]`;
  const sources = options.filters?.dataSourceIds?.length ? sql`and e.data_source_id in (${uuidList(options.filters.dataSourceIds)})` : sql``;
  const documentsFilter = options.filters?.documentIds?.length
    ? sql`and e.chunk_id in (select id from chunks where organization_id = ${tenant.organizationId} and document_id in (${uuidList(options.filters.documentIds)}))`
    : sql``;
  const rows = await queryRows<{ chunk_id: string; distance: number }>(tx, sql`
    select e.chunk_id, (e.embedding <=> ${literal}::vector) + 0 as distance
    from chunk_embeddings e
    where e.organization_id = ${tenant.organizationId} and e.model_key = ${modelKey} ${sources} ${documentsFilter}
    order by distance, e.chunk_id
    limit ${options.limit}`);
  return rows.map((row) => ({ chunkId: row.chunk_id, score: 1 - Number(row.distance) }));
}
