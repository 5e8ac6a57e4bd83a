import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type AppTx } from '../db/client.ts';
import type { TenantContext } from '../db/tenancy.ts';
import { foldAccents, queryAnalyzers } from './analysis/text-analysis.ts';

export interface Bm25Parameters {
  k1: number;
  b: number;
}

/** Tuned on SciFact's train queries (see src/knowledge/eval); Lucene's defaults are 1.2 / 0.75. */
export const defaultBm25: Bm25Parameters = { k1: 0.9, b: 0.4 };

export interface SearchFilters {
  dataSourceIds?: string[];
  documentIds?: string[];
}

export interface ScoredChunk {
  chunkId: string;
  score: number;
}

/**
 * BM25 over the persisted postings, computed entirely in SQL so that every server process shares
 * one index. The query is analysed by each language's configuration; document frequencies are
 * counted on the posting lists read for the query (exact, within the filtered sources), N and
 * the average length come from the sources' maintained counters.
 *   score(c) = Σ_t ln(1 + (N - df + 0.5) / (df + 0.5)) · tf·(k1+1) / (tf + k1·(1 - b + b·len/avglen))
 */
export async function searchLexical(
  tx: AppTx,
  tenant: TenantContext,
  query: string,
  options: { limit: number; filters?: SearchFilters; bm25?: Bm25Parameters },
): Promise<ScoredChunk[]> {
  const { k1, b } = options.bm25 ?? defaultBm25;
  const folded = foldAccents(query);
  const sources = options.filters?.dataSourceIds?.length ? sql`and p.data_source_id in (${uuidList(options.filters.dataSourceIds)})` : sql``;
  const statsSources = options.filters?.dataSourceIds?.length ? sql`and id in (${uuidList(options.filters.dataSourceIds)})` : sql``;
  const documentsFilter = options.filters?.documentIds?.length
    ? sql`where p.chunk_id in (select id from chunks where organization_id = ${tenant.organizationId} and document_id in (${uuidList(options.filters.documentIds)}))`
    : sql``;
  const analyzers = sql.join(queryAnalyzers.map((analyzer) => sql`(${analyzer})`), sql`, `);
  const rows = await queryRows<{ chunk_id: string; score: number }>(tx, sql`
    with query_terms as (
      select distinct a.analyzer, l.lexeme as term
      from (values ${analyzers}) as a(analyzer)
      cross join lateral unnest(to_tsvector(a.analyzer::regconfig, ${folded})) as l
    ), postings as materialized (
      select p.chunk_id, p.analyzer, p.term, p.term_frequency, p.chunk_length
      from query_terms q
      join chunk_terms p on p.organization_id = ${tenant.organizationId} and p.analyzer = q.analyzer and p.term = q.term
      ${sources}
    ), frequencies as (
      select analyzer, term, count(*)::float8 as df from postings group by analyzer, term
    ), stats as (
      select greatest(sum(chunk_count), 1)::float8 as n, greatest(sum(lexical_length)::float8 / greatest(sum(chunk_count), 1), 1) as avg_length
      from data_sources where organization_id = ${tenant.organizationId} ${statsSources}
    )
    select p.chunk_id, sum(
      ln(1 + (s.n - f.df + 0.5) / (f.df + 0.5))
      * p.term_frequency * (${k1}::float8 + 1)
      / (p.term_frequency + ${k1}::float8 * (1 - ${b}::float8 + ${b}::float8 * p.chunk_length / s.avg_length))
    )::float8 as score
    from postings p
    join frequencies f on f.analyzer = p.analyzer and f.term = p.term
    cross join stats s
    ${documentsFilter}
    group by p.chunk_id
    order by score desc, p.chunk_id
    limit ${options.limit}`);
  return rows.map((row) => ({ chunkId: row.chunk_id, score: Number(row.score) }));
}

export function uuidList(ids: string[]): SQL {
  return sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `);
}
