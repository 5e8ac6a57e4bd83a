import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type AppTx } from '../db/client.ts';
import type { TenantContext } from '../db/tenancy.ts';
import { foldAccents, queryAnalyzers } from './analysis/text-analysis.ts';

export interface Bm25Parameters {
  k1: number;
  b: number;
}

/** Tuned on SciFact's train queries (see src/knowledge/eval); Lucene's defaults are 1.2 / 0.75. */
export const defaultBm25: Bm25Parameters = { k1: 1.2, b: 0.5 };

export interface SearchFilters {
  dataSourceIds?: string[];
  documentIds?: string[];
}

export interface ScoredChunk {
  chunkId: string;
  score: number;
}

interface QueryTerm {
  analyzer: string;
  term: string;
  df: number;
  idf: number;
  /** Highest contribution the term can make to any chunk's score: idf · (k1 + 1). */
  upperBound: number;
}

/** Posting rows read in the first pass, which only estimates the k-th best score. */
const FIRST_PASS_POSTINGS = 2_000;

/**
 * Exact top-k BM25 over the persisted postings, computed in SQL so every server process shares
 * one index:
 *   score(c) = Σ_t ln(1 + (N - df + 0.5) / (df + 0.5)) · tf·(k1+1) / (tf + k1·(1 - b + b·len/avglen))
 * Document frequencies come from `term_stats` (within the filtered sources), N and the average
 * length from the sources' counters. To avoid reading the long posting lists of common terms,
 * the search follows MaxScore (Turtle & Flood 1995): a first pass over the rarest terms gives a
 * lower bound θ of the k-th best score; the commonest terms whose upper bounds sum to at most θ
 * are "non-essential" (a chunk having only them cannot enter the top k), so only the essential
 * terms' posting lists are read, and non-essential terms are looked up for the surviving chunks.
 * The result is the same ranking as scoring every posting.
 */
export async function searchLexical(
  tx: AppTx,
  tenant: TenantContext,
  query: string,
  options: { limit: number; filters?: SearchFilters; bm25?: Bm25Parameters; firstPassPostings?: number },
): Promise<ScoredChunk[]> {
  const { k1, b } = options.bm25 ?? defaultBm25;
  const sourceIds = options.filters?.dataSourceIds?.length ? options.filters.dataSourceIds : undefined;
  const terms = await queryTerms(tx, tenant, foldAccents(query), sourceIds, k1);
  if (terms.stats.n === 0 || terms.list.length === 0) return [];
  const { n, avgLength } = terms.stats;
  // Constants folded in JavaScript and typed float8: numeric arithmetic would be several times slower.
  const saturation = k1 * (1 - b);
  const perLength = (k1 * b) / avgLength;
  const weight = (alias: string) =>
    sql.raw(`${alias}.idf * p.term_frequency * ${(k1 + 1).toExponential()}::float8 / (p.term_frequency + ${saturation.toExponential()}::float8 + ${perLength.toExponential()}::float8 * p.chunk_length)`);
  void n;
  const sourceFilter = sourceIds ? sql`and p.data_source_id in (${uuidList(sourceIds)})` : sql``;
  const documentFilter = options.filters?.documentIds?.length
    ? sql`and p.chunk_id in (select id from chunks where organization_id = ${tenant.organizationId} and document_id in (${uuidList(options.filters.documentIds)}))`
    : sql``;
  const termValues = (list: QueryTerm[]) => sql.join(list.map((t) => sql`(${t.analyzer}, ${t.term}, ${t.idf}::float8)`), sql`, `);
  const partialScores = (list: QueryTerm[], minimum: SQL, limit: SQL) => queryRows<{ chunk_id: string; score: number }>(tx, sql`
    select p.chunk_id, sum(${weight('q')})::float8 as score
    from (values ${termValues(list)}) as q(analyzer, term, idf)
    join chunk_terms p on p.organization_id = ${tenant.organizationId} and p.analyzer = q.analyzer and p.term = q.term
    where true ${sourceFilter} ${documentFilter}
    group by p.chunk_id
    having sum(${weight('q')}) >= ${minimum}
    order by score desc, p.chunk_id
    ${limit}`);

  // Rarest first: the first pass reads the shortest lists, up to a budget of postings.
  const byRarity = [...terms.list].sort((x, y) => x.df - y.df);
  const firstPass: QueryTerm[] = [];
  let budget = 0;
  for (const term of byRarity) {
    if (firstPass.length > 0 && budget + term.df > (options.firstPassPostings ?? FIRST_PASS_POSTINGS)) break;
    firstPass.push(term);
    budget += term.df;
  }
  const termKey = (t: QueryTerm) => `${t.analyzer}\u0000${t.term}`;
  // Adds the given terms' contributions for the given chunks (primary-key probes, not list scans).
  const probe = async (list: QueryTerm[], chunkIds: string[]): Promise<Map<string, number>> => {
    const extra = new Map<string, number>();
    if (list.length === 0 || chunkIds.length === 0) return extra;
    const rows = await queryRows<{ chunk_id: string; score: number }>(tx, sql`
      select p.chunk_id, sum(${weight('q')})::float8 as score
      from (values ${termValues(list)}) as q(analyzer, term, idf)
      join chunk_terms p on p.organization_id = ${tenant.organizationId} and p.analyzer = q.analyzer and p.term = q.term
        and p.chunk_id = any(${`{${chunkIds.join(',')}}`}::uuid[])
      where true ${sourceFilter}
      group by p.chunk_id`);
    for (const row of rows) extra.set(row.chunk_id, Number(row.score));
    return extra;
  };

  let theta = 0;
  if (firstPass.length < terms.list.length) {
    const estimate = await partialScores(firstPass, sql`0`, sql`limit ${options.limit}`);
    if (estimate.length === options.limit) {
      // The full scores of these k real chunks bound the k-th best full score from below.
      const inFirstPass = new Set(firstPass.map(termKey));
      const extra = await probe(terms.list.filter((t) => !inFirstPass.has(termKey(t))), estimate.map((row) => row.chunk_id));
      const full = estimate.map((row) => Number(row.score) + (extra.get(row.chunk_id) ?? 0)).sort((x, y) => y - x);
      theta = full[options.limit - 1] ?? 0;
    }
  }

  // Non-essential: the terms of lowest upper bound whose bounds together stay within θ.
  const byBound = [...terms.list].sort((x, y) => x.upperBound - y.upperBound);
  const nonEssential: QueryTerm[] = [];
  let boundSum = 0;
  for (const term of byBound) {
    if (boundSum + term.upperBound > theta) break;
    nonEssential.push(term);
    boundSum += term.upperBound;
  }
  const essential = byBound.slice(nonEssential.length);
  // A chunk whose essential score plus every non-essential bound stays below θ cannot make the top k
  // (less a rounding margin: the same sums are added in another order in each pass).
  const survivors = await partialScores(essential, sql`${theta - boundSum - 1e-9}::float8`, nonEssential.length === 0 ? sql`limit ${options.limit}` : sql``);
  const scores = new Map<string, number>();
  const nonEssentialPostings = nonEssential.reduce((sum, t) => sum + t.df, 0);
  if (nonEssential.length > 0 && survivors.length * nonEssential.length > nonEssentialPostings) {
    // Many survivors: reading the non-essential lists once is cheaper than probing each survivor.
    const rows = await queryRows<{ chunk_id: string; score: number }>(tx, sql`
      select p.chunk_id, sum(${weight('q')})::float8 as score
      from (values ${termValues(nonEssential)}) as q(analyzer, term, idf)
      join chunk_terms p on p.organization_id = ${tenant.organizationId} and p.analyzer = q.analyzer and p.term = q.term
      where true ${sourceFilter}
      group by p.chunk_id`);
    const extra = new Map(rows.map((row) => [row.chunk_id, Number(row.score)]));
    for (const row of survivors) scores.set(row.chunk_id, Number(row.score) + (extra.get(row.chunk_id) ?? 0));
    return topOf(scores, options.limit);
  }
  // Survivors come best partial score first: probe them in batches, raising θ as exact scores
  // come in, and stop as soon as the next partial score plus every bound cannot reach θ.
  const batchSize = Math.max(100, options.limit * 4);
  for (let start = 0; start < survivors.length; start += batchSize) {
    const head = Number(survivors[start]?.score ?? 0);
    if (nonEssential.length > 0 && head + boundSum < theta - 1e-9) break;
    const batch = survivors.slice(start, start + batchSize);
    const extra = nonEssential.length > 0 ? await probe(nonEssential, batch.map((row) => row.chunk_id)) : new Map<string, number>();
    for (const row of batch) scores.set(row.chunk_id, Number(row.score) + (extra.get(row.chunk_id) ?? 0));
    if (scores.size >= options.limit) {
      const best = [...scores.values()].sort((x, y) => y - x);
      theta = Math.max(theta, best[options.limit - 1] ?? 0);
    }
  }
  return topOf(scores, options.limit);
}

function topOf(scores: Map<string, number>, limit: number): ScoredChunk[] {
  return [...scores.entries()]
    .map(([chunkId, score]) => ({ chunkId, score }))
    .sort((x, y) => y.score - x.score || (x.chunkId < y.chunkId ? -1 : x.chunkId > y.chunkId ? 1 : 0))
    .slice(0, limit);
}

/** The query's analysed terms with their document frequencies, and N / average length. */
async function queryTerms(tx: AppTx, tenant: TenantContext, foldedQuery: string, sourceIds: string[] | undefined, k1: number) {
  const analyzers = sql.join(queryAnalyzers.map((analyzer) => sql`(${analyzer})`), sql`, `);
  const statsSources = sourceIds ? sql`and s.data_source_id in (${uuidList(sourceIds)})` : sql``;
  const counterSources = sourceIds ? sql`and id in (${uuidList(sourceIds)})` : sql``;
  const [stats] = await queryRows<{ n: number; avg_length: number }>(tx, sql`
    select coalesce(sum(chunk_count), 0)::float8 as n, (coalesce(sum(lexical_length), 0)::float8 / greatest(coalesce(sum(chunk_count), 0), 1))::float8 as avg_length
    from data_sources where organization_id = ${tenant.organizationId} ${counterSources}`);
  const n = Number(stats?.n ?? 0);
  const rows = await queryRows<{ analyzer: string; term: string; df: number }>(tx, sql`
    with query_terms as (
      select distinct a.analyzer, l.lexeme as term
      from (values ${analyzers}) as a(analyzer)
      cross join lateral unnest(to_tsvector(a.analyzer::regconfig, ${foldedQuery})) as l
    )
    select q.analyzer, q.term, sum(s.document_frequency)::int as df
    from query_terms q
    join term_stats s on s.organization_id = ${tenant.organizationId} and s.analyzer = q.analyzer and s.term = q.term ${statsSources}
    group by q.analyzer, q.term
    having sum(s.document_frequency) > 0`);
  const list: QueryTerm[] = rows.map((row) => {
    const df = Number(row.df);
    const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
    return { analyzer: row.analyzer, term: row.term, df, idf, upperBound: idf * (k1 + 1) };
  });
  return { stats: { n, avgLength: Math.max(Number(stats?.avg_length ?? 1), 1) }, list };
}

export function uuidList(ids: string[]): SQL {
  return sql.join(ids.map((id) => sql`${id}::uuid`), sql`, `);
}
