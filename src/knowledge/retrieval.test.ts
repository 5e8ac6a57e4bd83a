import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { HashedBagOfWordsEmbedding } from '../../test/support/knowledge-embedding.ts';
import { queryRows } from '../db/client.ts';
import { organizations } from '../db/schema/index.ts';
import { withTenant, withUnscoped } from '../db/tenancy.ts';
import { JobRunner } from '../ops/jobs/runner.ts';
import { INGEST_JOB, submitDocuments } from './ingest.service.ts';
import { ingestJobHandler } from './ingest.job.ts';
import type { KnowledgeDeps } from './knowledge-deps.ts';
import { registerKnowledgeJobs } from './knowledge.module.ts';
import { searchLexical } from './lexical.repo.ts';
import { changeEmbeddingModel } from './reembed.job.ts';
import type { KnowledgeActor } from './knowledge-audit.ts';

/** An operator-less change, as a script would make it. */
const testActor: KnowledgeActor = { actorType: 'system', actorId: null, ip: null, requestId: null };
import { retrieve } from './retriever.ts';
import { insertDataSource } from './sources.repo.ts';
import { searchVectors } from './vectors.repo.ts';

describe('retrieval: BM25 in SQL, analysers, vectors, model change, resumable ingestion', () => {
  let database: TestDatabase;
  let deps: KnowledgeDeps;
  const models = new Map([
    ['hash-a', new HashedBagOfWordsEmbedding('hash-a', 64, 'a')],
    ['hash-b', new HashedBagOfWordsEmbedding('hash-b', 48, 'b')],
  ]);

  beforeAll(async () => {
    database = await createTestDatabase();
    deps = { db: database.db, maxFileBytes: 1_000_000, resolveEmbeddingProvider: async (_org, key) => models.get(key) };
  });
  afterAll(() => database?.close());

  async function newOrganisation(slug: string) {
    const [org] = await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: slug, slug }).returning());
    const tenant = { organizationId: org?.id ?? '' };
    const source = await withTenant(database.db, tenant, (tx) => insertDataSource(tx, tenant, { name: 'docs', kind: 'manual' }));
    return { tenant, sourceId: source?.id ?? '' };
  }
  function runner(extra?: (r: JobRunner) => void) {
    const r = new JobRunner(database.db, { concurrency: 1, leaseMs: 60_000, retryDelayMs: () => 0 });
    registerKnowledgeJobs(r, deps);
    extra?.(r);
    return r;
  }
  const push = (tenant: { organizationId: string }, sourceId: string, docs: [string, string, string][]) =>
    submitDocuments(deps, tenant, sourceId, docs.map(([key, title, text]) => ({ key, title, bytes: Buffer.from(text) })));

  it('scores exactly BM25 (IDF, saturation, length normalisation) from the stored postings', async () => {
    const { tenant, sourceId } = await newOrganisation('bm25');
    await push(tenant, sourceId, [
      ['d1', 'alpha', 'zebra zebra lion'],
      ['d2', 'beta', 'lion tiger'],
      ['d3', 'gamma', 'tiger tiger tiger lion'],
    ]);
    await runner().drain();
    const k1 = 0.9;
    const b = 0.4;
    // Lengths count the title too: d1 = 4, d2 = 3, d3 = 5; N = 3; average 4.
    const idf = (df: number) => Math.log(1 + (3 - df + 0.5) / (df + 0.5));
    const term = (tf: number, length: number) => (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length) / 4));
    const expected = {
      d1: idf(1) * term(2, 4) + idf(3) * term(1, 4),
      d2: idf(3) * term(1, 3),
      d3: idf(3) * term(1, 5),
    };
    const results = await withTenant(database.db, tenant, (tx) => searchLexical(tx, tenant, 'zebras and lions', { limit: 10, bm25: { k1, b } }));
    const keys = await withTenant(database.db, tenant, (tx) =>
      queryRows<{ id: string; key: string }>(tx, sql`select c.id, d.external_key as key from chunks c join documents d on d.id = c.document_id`),
    );
    const keyOf = new Map(keys.map((row) => [row.id, row.key]));
    const scored = Object.fromEntries(results.map((r) => [keyOf.get(r.chunkId), r.score]));
    expect(Object.keys(scored)).toEqual(['d1', 'd2', 'd3']);
    for (const [key, value] of Object.entries(expected)) expect(scored[key]).toBeCloseTo(value, 9);
  });

  it('MaxScore pruning returns exactly the ranking of scoring every posting', async () => {
    const { tenant, sourceId } = await newOrganisation('maxscore');
    // A Zipf-like vocabulary: a few words in almost every chunk, many rare ones.
    const vocabulary = ['river', 'bridge', 'castle', 'forest', 'garden', 'harbor', 'island', 'market', 'meadow', 'mountain', 'palace', 'quarry', 'temple', 'tunnel', 'valley', 'village', 'window', 'canyon', 'desert', 'glacier'];
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const docs = Array.from({ length: 80 }, (_, i) => {
      const words = Array.from({ length: 8 + Math.floor(random() * 30) }, () => vocabulary[Math.floor(vocabulary.length * random() ** 3)] ?? 'river');
      return [`m${i}`, `Note ${i}`, words.join(' ')] as [string, string, string];
    });
    await push(tenant, sourceId, docs);
    await runner().drain();
    for (const [query, limit] of [['river bridge castle glacier', 10], ['river bridge', 10], ['desert canyon river', 3], ['forest garden harbor island market', 10], ['glacier temple window river', 25]] as const) {
      const reference = await withTenant(database.db, tenant, (tx) => searchLexical(tx, tenant, query, { limit, firstPassPostings: 1_000_000 }));
      const pruned = await withTenant(database.db, tenant, (tx) => searchLexical(tx, tenant, query, { limit, firstPassPostings: 5 }));
      expect(pruned).toHaveLength(reference.length);
      expect(pruned.map((r) => r.chunkId)).toEqual(reference.map((r) => r.chunkId));
      pruned.forEach((r, i) => expect(r.score).toBeCloseTo(reference[i]?.score ?? -1, 9));
    }
  });

  it('French and English analysers: stemming, stop words and accents folded both ways', async () => {
    const { tenant, sourceId } = await newOrganisation('langs');
    await push(tenant, sourceId, [
      ['fr', 'Cours', 'Les élèves étudient les économies régionales de la France.'],
      ['en', 'Course', 'The students were studying regional economies in France.'],
    ]);
    await runner().drain();
    const languages = await withTenant(database.db, tenant, (tx) => queryRows<{ external_key: string; language: string }>(tx, sql`select external_key, language from documents order by external_key`));
    expect(languages).toEqual([
      { external_key: 'en', language: 'en' },
      { external_key: 'fr', language: 'fr' },
    ]);
    const keysFor = async (query: string) =>
      (await retrieve(deps, tenant, { query, topK: 5 })).map((r) => r.document.externalKey).sort();
    expect(await keysFor('eleve etudient')).toEqual(['fr']);
    // Stems may meet across languages (economie / economies): both documents are relevant.
    expect(await keysFor('economie')).toEqual(['en', 'fr']);
    expect(await keysFor('élève')).toEqual(['fr']);
    expect(await keysFor('student economy')).toEqual(['en']);
    expect(await keysFor('de la the and')).toEqual([]);
  });

  it('filters by data source and document, honours top-k and the score threshold', async () => {
    const { tenant, sourceId } = await newOrganisation('filters');
    const other = await withTenant(database.db, tenant, (tx) => insertDataSource(tx, tenant, { name: 'other', kind: 'manual' }));
    await push(tenant, sourceId, [['a', 'A', 'quantum computing basics'], ['b', 'B', 'quantum physics history']]);
    await submitDocuments(deps, tenant, other?.id ?? '', [{ key: 'c', title: 'C', bytes: Buffer.from('quantum entanglement') }]);
    await runner().drain();
    expect((await retrieve(deps, tenant, { query: 'quantum', topK: 10 })).length).toBe(3);
    expect((await retrieve(deps, tenant, { query: 'quantum', topK: 2 })).length).toBe(2);
    expect((await retrieve(deps, tenant, { query: 'quantum', topK: 10, filters: { dataSourceIds: [other?.id ?? ''] } })).map((r) => r.document.externalKey)).toEqual(['c']);
    const all = await retrieve(deps, tenant, { query: 'quantum computing', topK: 10 });
    const docA = all.find((r) => r.document.externalKey === 'a');
    expect((await retrieve(deps, tenant, { query: 'quantum', topK: 10, filters: { documentIds: [docA?.document.id ?? ''] } })).map((r) => r.document.externalKey)).toEqual(['a']);
    const top = all[0]?.score ?? 0;
    expect((await retrieve(deps, tenant, { query: 'quantum computing', topK: 10, minScore: top })).map((r) => r.document.externalKey)).toEqual(['a']);
  });

  it('vectors: exact per-organisation search, RRF fusion, and a model change that serves the old vectors until the new index is complete', async () => {
    const { tenant, sourceId } = await newOrganisation('vectors');
    await push(tenant, sourceId, Array.from({ length: 12 }, (_, i) => [`doc${i}`, `Topic ${i}`, `note ${i} about ${['apples', 'rivers', 'engines', 'violins'][i % 4]} and ${['taxes', 'birds', 'stars'][i % 3]}`] as [string, string, string]));
    await runner().drain();
    const first = await changeEmbeddingModel(deps, tenant, 'hash-a', testActor);
    const audited = await withTenant(database.db, tenant, (tx) => queryRows<{ action: string; details: { modelKey?: string } }>(tx, sql`select action, details from audit_events where action = 'embedding_model.change_started'`));
    expect(audited.map((event) => event.details.modelKey)).toEqual(['hash-a']);
    expect(first.status).toBe('building');
    await runner().drain();
    const counts = async () =>
      withTenant(database.db, tenant, (tx) =>
        queryRows<{ model_key: string; n: number }>(tx, sql`select model_key, count(*)::int as n from chunk_embeddings group by model_key order by model_key`),
      );
    expect(await counts()).toEqual([{ model_key: 'hash-a', n: 12 }]);

    // Exact search: the order is the brute-force cosine order.
    const [queryVector] = await (models.get('hash-a') as HashedBagOfWordsEmbedding).embed(['rivers and birds']);
    const found = await withTenant(database.db, tenant, (tx) => searchVectors(tx, tenant, 'hash-a', queryVector ?? [], { limit: 12 }));
    const scores = found.map((f) => f.score);
    expect(found).toHaveLength(12);
    expect([...scores].sort((x, y) => y - x)).toEqual(scores);

    const hybrid = await retrieve(deps, tenant, { query: 'rivers birds', topK: 3 });
    expect(hybrid[0]?.retrievers).toEqual(['lexical', 'vector']);
    expect(hybrid[0]?.text).toMatch(/rivers and birds/);

    // Change of model: while the new index builds, the old one serves and new documents get both vectors.
    const second = await changeEmbeddingModel(deps, tenant, 'hash-b', testActor);
    expect(second.status).toBe('building');
    await push(tenant, sourceId, [['late', 'Late', 'violins and stars at night']]);
    const ingestOnly = new JobRunner(database.db, { concurrency: 1, leaseMs: 60_000 });
    ingestOnly.register(INGEST_JOB, ingestJobHandler(deps));
    await ingestOnly.drain();
    expect(await counts()).toEqual([{ model_key: 'hash-a', n: 13 }, { model_key: 'hash-b', n: 1 }]);
    const during = await retrieve(deps, tenant, { query: 'violins stars', topK: 3 });
    expect(during[0]?.retrievers).toContain('vector');
    const active = async () => withTenant(database.db, tenant, (tx) => queryRows<{ model_key: string }>(tx, sql`select model_key from embedding_indexes where status = 'active'`));
    expect(await active()).toEqual([{ model_key: 'hash-a' }]);

    await runner().drain();
    expect(await active()).toEqual([{ model_key: 'hash-b' }]);
    expect(await counts()).toEqual([{ model_key: 'hash-b', n: 13 }]);
    const after = await retrieve(deps, tenant, { query: 'violins stars', topK: 3 });
    expect(after[0]?.retrievers).toEqual(['lexical', 'vector']);
  });

  it('a batch interrupted mid-way resumes without duplicate chunks: same counts as a clean run', async () => {
    const docs = Array.from({ length: 8 }, (_, i) => [`k${i}`, `Title ${i}`, `Paragraph one of document ${i}.\n\n${'Filler sentence about logistics. '.repeat(40 + i * 10)}`] as [string, string, string]);
    const clean = await newOrganisation('clean-run');
    await changeEmbeddingModel(deps, clean.tenant, 'hash-a', testActor);
    await runner().drain();
    await push(clean.tenant, clean.sourceId, docs);
    await runner().drain();

    const crashed = await newOrganisation('crashed-run');
    await changeEmbeddingModel(deps, crashed.tenant, 'hash-a', testActor);
    await runner().drain();
    await push(crashed.tenant, crashed.sourceId, docs);
    // The worker dies in the middle of the fourth document: parsed and chunked, not committed.
    let calls = 0;
    const real = models.get('hash-a') as HashedBagOfWordsEmbedding;
    const dyingDeps: KnowledgeDeps = {
      ...deps,
      resolveEmbeddingProvider: async () => ({
        modelKey: 'hash-a',
        dimension: real.dimension,
        embed: async (texts) => {
          calls += 1;
          if (calls === 4) throw new Error('worker killed');
          return real.embed(texts);
        },
      }),
    };
    const dying = new JobRunner(database.db, { concurrency: 1, leaseMs: 60_000, retryDelayMs: () => 0 });
    dying.register(INGEST_JOB, ingestJobHandler(dyingDeps));
    expect(await dying.runNext()).toBe(true);
    const midway = await withTenant(database.db, crashed.tenant, (tx) => queryRows<{ n: number }>(tx, sql`select count(*)::int as n from documents where status = 'ready'`));
    expect(midway[0]?.n).toBe(3);
    await runner().drain();

    const summary = async (tenant: { organizationId: string }) =>
      withTenant(database.db, tenant, (tx) =>
        queryRows<{ chunks: number; terms: number; vectors: number; ready: number; source_chunks: number }>(tx, sql`
          select (select count(*)::int from chunks) as chunks, (select count(*)::int from chunk_terms) as terms, (select count(*)::int from chunk_embeddings) as vectors,
                 (select count(*)::int from documents where status = 'ready') as ready, (select sum(chunk_count)::int from data_sources) as source_chunks`),
      );
    const [cleanCounts] = await summary(clean.tenant);
    const [crashedCounts] = await summary(crashed.tenant);
    expect(cleanCounts?.chunks).toBeGreaterThan(8);
    expect(crashedCounts).toEqual(cleanCounts);
    expect(crashedCounts?.source_chunks).toBe(crashedCounts?.chunks);
    expect(crashedCounts?.vectors).toBe(crashedCounts?.chunks);
  });
});
