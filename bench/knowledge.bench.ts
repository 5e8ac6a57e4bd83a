/**
 * Knowledge benchmarks (prints figures, asserts nothing):
 *  1. ingestion throughput end to end (submit -> durable job -> parse, chunk, analyse, index) over
 *     the SciFact corpus: documents/s and chunks/s;
 *  2. lexical (BM25) retrieval latency p50/p95 at 100,000 chunks, SQL alone and through the
 *     retriever (with hydration of the top 10), on PGlite and, when DATABASE_URL is set, PostgreSQL.
 * Options: --corpus <BEIR folder> (default ../shared/eval/scifact), --ingest-docs N (default 1000;
 * 0 = whole corpus), --chunks N (default 100000), --queries N (default 200).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { openPglite, openPostgres, type Database } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';
import { organizations } from '../src/db/schema/index.ts';
import { withTenant, withUnscoped, type TenantContext } from '../src/db/tenancy.ts';
import { analyzerOf, countTokens, countWords } from '../src/knowledge/analysis/text-analysis.ts';
import { readCorpus, readQueries, type BeirDocument } from '../src/knowledge/eval/beir.ts';
import { replaceDocumentChunks } from '../src/knowledge/index.repo.ts';
import { submitDocuments } from '../src/knowledge/ingest.service.ts';
import type { KnowledgeDeps } from '../src/knowledge/knowledge-deps.ts';
import { registerKnowledgeJobs } from '../src/knowledge/knowledge.module.ts';
import { searchLexical } from '../src/knowledge/lexical.repo.ts';
import { retrieve } from '../src/knowledge/retriever.ts';
import { insertDataSource } from '../src/knowledge/sources.repo.ts';
import { upsertIncomingDocument } from '../src/knowledge/documents.repo.ts';
import { JobRunner } from '../src/ops/jobs/runner.ts';

const { values } = parseArgs({
  options: {
    corpus: { type: 'string', default: path.resolve('../shared/eval/scifact') },
    'ingest-docs': { type: 'string', default: '1000' },
    chunks: { type: 'string', default: '100000' },
    queries: { type: 'string', default: '200' },
  },
});
const corpusFolder = existsSync(path.join(values.corpus ?? '', 'corpus.jsonl')) ? values.corpus : existsSync('/work/shared/eval/scifact/corpus.jsonl') ? '/work/shared/eval/scifact' : undefined;
if (!corpusFolder) {
  console.log('knowledge bench: no BEIR corpus found (--corpus <folder>); skipped');
  process.exit(0);
}
const corpus = await readCorpus(corpusFolder);
const queryTexts = [...readQueries(corpusFolder).values()].slice(0, Number(values.queries));

async function withScratchDatabase<T>(engine: 'pglite' | 'postgres', fn: (database: Database) => Promise<T>): Promise<T> {
  if (engine === 'pglite') {
    const root = mkdtempSync(path.join(tmpdir(), 'savoir-bench-'));
    const database = await openPglite(path.join(root, 'db'));
    try {
      await runMigrations(database);
      return await fn(database);
    } finally {
      await database.close();
      rmSync(root, { recursive: true, force: true });
    }
  }
  const adminUrl = process.env.DATABASE_URL ?? '';
  const name = `savoir_bench_${process.pid}`;
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    await client.query(statement).finally(() => client.end());
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openPostgres(url.toString(), 4);
  try {
    await runMigrations(database);
    return await fn(database);
  } finally {
    await database.close();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

async function newTenant(database: Database, slug: string): Promise<{ tenant: TenantContext; sourceId: string }> {
  const [org] = await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: slug, slug }).returning());
  const tenant = { organizationId: org?.id ?? '' };
  const source = await withTenant(database.db, tenant, (tx) => insertDataSource(tx, tenant, { name: slug, kind: 'manual' }));
  return { tenant, sourceId: source?.id ?? '' };
}

async function benchIngestion(database: Database, documents: BeirDocument[]) {
  const deps: KnowledgeDeps = { db: database.db, maxFileBytes: 10 * 1024 * 1024 };
  const { tenant, sourceId } = await newTenant(database, 'ingest');
  const started = performance.now();
  for (let i = 0; i < documents.length; i += 250) {
    await submitDocuments(deps, tenant, sourceId, documents.slice(i, i + 250).map((d) => ({ key: d.id, title: d.title, bytes: Buffer.from(d.text || d.title) })));
  }
  const runner = new JobRunner(database.db, { concurrency: 1, leaseMs: 600_000 });
  registerKnowledgeJobs(runner, deps);
  await runner.drain();
  const seconds = (performance.now() - started) / 1000;
  const [stats] = await withTenant(database.db, tenant, (tx) => tx.query.dataSources.findMany());
  return { seconds, documents: stats?.documentCount ?? 0, chunks: stats?.chunkCount ?? 0 };
}

/** 100k chunks of real scientific text: SciFact sentence pairs, cycled, 100 chunks per document, through the indexer. */
async function buildChunks(database: Database, target: number) {
  const { tenant, sourceId } = await newTenant(database, 'latency');
  const pieces: string[] = [];
  for (const doc of corpus) {
    const sentences = doc.text.match(/[^.!?]+[.!?]+/g) ?? [doc.text];
    for (let i = 0; i < sentences.length; i += 2) pieces.push(`${doc.title}\n${sentences.slice(i, i + 2).join(' ').trim()}`);
  }
  const started = performance.now();
  const perDocument = 100;
  for (let d = 0; d * perDocument < target; d += 1) {
    const texts = Array.from({ length: Math.min(perDocument, target - d * perDocument) }, (_, i) => pieces[(d * perDocument + i) % pieces.length] ?? '');
    await withTenant(database.db, tenant, async (tx) => {
      const { document } = await upsertIncomingDocument(tx, tenant, sourceId, { externalKey: `bulk-${d}`, title: `bulk ${d}`, contentHash: String(d), sizeBytes: 0, bytes: Buffer.alloc(0) });
      await replaceDocumentChunks(tx, tenant, {
        documentId: document.id,
        dataSourceId: sourceId,
        version: document.version,
        title: `bulk ${d}`,
        mimeType: 'text/plain',
        language: 'en',
        pages: null,
        wordCount: texts.reduce((sum, t) => sum + countWords(t), 0),
        chunks: texts.map((text, ordinal) => ({ ordinal, text, headingPath: [], pageStart: null, pageEnd: null, tokenCount: countTokens(text), language: 'en', analyzer: analyzerOf.en, lexicalText: text, embeddings: {} })),
      });
    });
  }
  return { tenant, buildSeconds: (performance.now() - started) / 1000 };
}

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
  return `p50 ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms`;
}

async function measure(database: Database, tenant: TenantContext) {
  const deps: KnowledgeDeps = { db: database.db, maxFileBytes: 0 };
  for (const q of queryTexts.slice(0, 10)) await retrieve(deps, tenant, { query: q, topK: 10 }); // warm-up
  const sqlOnly: number[] = [];
  const full: number[] = [];
  for (const query of queryTexts) {
    let t = performance.now();
    await withTenant(database.db, tenant, (tx) => searchLexical(tx, tenant, query, { limit: 10 }));
    sqlOnly.push(performance.now() - t);
    t = performance.now();
    await retrieve(deps, tenant, { query, topK: 10 });
    full.push(performance.now() - t);
  }
  return { sqlOnly: percentiles(sqlOnly), full: percentiles(full) };
}

async function benchLatency(database: Database, target: number) {
  const { tenant, buildSeconds } = await buildChunks(database, target);
  const fresh = await measure(database, tenant);
  // Steady state: what autovacuum gives a PostgreSQL server (statistics, visibility map for
  // index-only scans); PGlite has no autovacuum, so an embedded deployment must run this itself.
  await database.withOwnerConnection(async (owner) => {
    await owner.execute(sql`vacuum analyze chunk_terms`);
    await owner.execute(sql`vacuum analyze term_stats`);
    await owner.execute(sql`analyze`);
  });
  const vacuumed = await measure(database, tenant);
  return { buildSeconds, fresh, vacuumed };
}

const ingestDocs = Number(values['ingest-docs']) || corpus.length;
const chunkTarget = Number(values.chunks);
const engines: ('pglite' | 'postgres')[] = process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
for (const engine of engines) {
  await withScratchDatabase(engine, async (database) => {
    const ingestion = await benchIngestion(database, corpus.slice(0, ingestDocs));
    console.log(`[${engine}] ingestion (SciFact, ${ingestion.documents} documents, ${ingestion.chunks} chunks, end to end through the job): ${(ingestion.documents / ingestion.seconds).toFixed(1)} documents/s, ${(ingestion.chunks / ingestion.seconds).toFixed(1)} chunks/s (${ingestion.seconds.toFixed(1)} s)`);
    const latency = await benchLatency(database, chunkTarget);
    console.log(`[${engine}] built ${chunkTarget} chunks through the indexer in ${latency.buildSeconds.toFixed(1)} s (${(chunkTarget / latency.buildSeconds).toFixed(0)} chunks/s)`);
    console.log(`[${engine}] BM25 top-10 at ${chunkTarget} chunks, ${queryTexts.length} SciFact queries, right after indexing: SQL ${latency.fresh.sqlOnly}; retriever with hydration ${latency.fresh.full}`);
    console.log(`[${engine}] same after VACUUM ANALYZE: SQL ${latency.vacuumed.sqlOnly}; retriever with hydration ${latency.vacuumed.full}`);
  });
}
