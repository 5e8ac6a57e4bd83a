/**
 * `npm run eval -- <BEIR folder> [--split test|train] [--tune] [--limit-docs N]`
 * Ingests a BEIR dataset through the HTTP API (JSON push) and the ingestion jobs, runs the
 * split's queries through the search API, and prints nDCG@10, Recall@100 and MRR@10 beside the
 * published BM25 anchor. `--tune` sweeps BM25 k1/b on the split through the retriever service.
 * Uses an embedded PGlite database in a temporary folder, or DATABASE_URL when given.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load.ts';
import { openPglite, openPostgres, type Database } from '../../db/client.ts';
import { runMigrations } from '../../db/migrate.ts';
import { organizations } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { buildApp } from '../../http/app.ts';
import { createLogger } from '../../http/logger.ts';
import { JobRunner } from '../../ops/jobs/runner.ts';
import { registerKnowledgeJobs } from '../knowledge.module.ts';
import { retrieve } from '../retriever.ts';
import { readCorpus, readQrels, readQueries, type Qrels } from './beir.ts';
import { mean, mrrAt, ndcgAt, recallAt } from './metrics.ts';

const ANCHORS: Record<string, { ndcg10: number; source: string }> = {
  scifact: { ndcg10: 0.6789, source: 'BM25 (Pyserini, title+text one field), BEIR / Pyserini' },
};

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { split: { type: 'string', default: 'test' }, tune: { type: 'boolean', default: false }, 'limit-docs': { type: 'string' }, 'db-dir': { type: 'string' } },
});
const folder = positionals[0];
if (!folder) {
  console.error('usage: npm run eval -- <BEIR folder> [--split test|train] [--tune]');
  process.exit(2);
}

const started = Date.now();
const root = mkdtempSync(path.join(tmpdir(), 'savoir-eval-'));
// The eval is a command-line harness like bench/: it reads DATABASE_URL itself.
// eslint-disable-next-line no-restricted-properties
const databaseUrl = process.env.DATABASE_URL;
const database: Database = databaseUrl ? await openPostgres(databaseUrl, 4) : await openPglite(values['db-dir'] ?? path.join(root, 'pglite'));
try {
  await runMigrations(database);
  // --db-dir keeps the ingested corpus between runs (for tuning): reuse its organisation when present.
  const [existing] = values['db-dir'] ? await withUnscoped(database.db, (tx) => tx.select().from(organizations).limit(1)) : [];
  const [organization] = existing ? [existing] : await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: 'Evaluation', slug: `eval-${Date.now()}` }).returning());
  if (!organization) throw new Error('could not create the evaluation organisation');
  const tenant = { organizationId: organization.id };
  const config = loadConfig({ SAVOIR_DATA_DIR: root, SAVOIR_LOG_LEVEL: 'warn' });
  const app = await buildApp({ config, database, logger: createLogger(config), authenticators: [async () => ({ organizationId: organization.id, role: 'owner' })] });
  const request = async <T>(method: 'POST' | 'GET', url: string, payload?: unknown): Promise<T> => {
    const response = await app.inject({ method, url, payload: payload as object });
    if (response.statusCode >= 300) throw new Error(`${method} ${url} answered ${response.statusCode}: ${response.body}`);
    return response.json() as T;
  };

  const corpus = (await readCorpus(folder)).slice(0, values['limit-docs'] ? Number(values['limit-docs']) : undefined);
  const sourceName = path.basename(path.resolve(folder)).slice(0, 40);
  const known = (await request<{ items: { id: string; name: string }[] }>('GET', '/api/v1/data-sources')).items.find((item) => item.name === sourceName);
  const source = known ?? (await request<{ id: string }>('POST', '/api/v1/data-sources', { name: sourceName, kind: 'manual' }));
  const ingestStart = Date.now();
  const batchSize = 250;
  for (let start = known ? corpus.length : 0; start < corpus.length; start += batchSize) {
    const documents = corpus.slice(start, start + batchSize).map((doc) => ({ key: doc.id, title: doc.title || doc.id, content: doc.text || doc.title || '(empty)' }));
    await request('POST', `/api/v1/data-sources/${source.id}/documents`, { documents });
  }
  const runner = new JobRunner(database.db, { concurrency: 1, leaseMs: 600_000 });
  registerKnowledgeJobs(runner, { db: database.db, maxFileBytes: config.knowledge.maxFileBytes });
  await runner.drain();
  const ingestSeconds = (Date.now() - ingestStart) / 1000;
  const stats = await request<{ documentCount: number; chunkCount: number }>('GET', `/api/v1/data-sources/${source.id}`);
  console.log(`ingested ${stats.documentCount} documents, ${stats.chunkCount} chunks in ${ingestSeconds.toFixed(1)} s (${(stats.documentCount / ingestSeconds).toFixed(1)} documents/s, ${(stats.chunkCount / ingestSeconds).toFixed(1)} chunks/s)`);

  const queries = readQueries(folder);
  const qrels = readQrels(folder, values.split ?? 'test');
  const docIdOfKey = (key: string) => key;

  const evaluate = async (search: (query: string) => Promise<{ key: string; score: number }[]>) => {
    const ndcg: number[] = [];
    const recall: number[] = [];
    const mrr: number[] = [];
    const latencies: number[] = [];
    for (const [queryId, relevant] of qrels) {
      const text = queries.get(queryId);
      if (!text) continue;
      const t0 = performance.now();
      const ranked = dedupeDocuments(await search(text)).map(docIdOfKey);
      latencies.push(performance.now() - t0);
      ndcg.push(ndcgAt(10, ranked, relevant));
      recall.push(recallAt(100, ranked, relevant));
      mrr.push(mrrAt(10, ranked, relevant));
    }
    latencies.sort((a, b) => a - b);
    return { ndcg10: mean(ndcg), recall100: mean(recall), mrr10: mean(mrr), queries: ndcg.length, p50: latencies[Math.floor(latencies.length * 0.5)] ?? 0, p95: latencies[Math.floor(latencies.length * 0.95)] ?? 0 };
  };

  if (values.tune) {
    for (const k1 of [0.7, 0.9, 1.2, 1.5]) {
      for (const b of [0.3, 0.5, 0.75]) {
        const result = await evaluate(async (query) =>
          (await retrieve({ db: database.db, maxFileBytes: 0, bm25: { k1, b } }, tenant, { query, topK: 100 })).map((r) => ({ key: r.document.externalKey, score: r.score })),
        );
        console.log(`k1=${k1} b=${b} nDCG@10=${result.ndcg10.toFixed(4)} Recall@100=${result.recall100.toFixed(4)} MRR@10=${result.mrr10.toFixed(4)}`);
      }
    }
  }

  const result = await evaluate(async (query) => {
    const body = await request<{ results: { document: { externalKey: string }; score: number }[] }>('POST', '/api/v1/search', { query, topK: 200 });
    return body.results.map((r) => ({ key: r.document.externalKey, score: r.score }));
  });
  const anchor = ANCHORS[path.basename(path.resolve(folder)).toLowerCase()];
  console.log(`\n${path.basename(path.resolve(folder))} ${values.split} (${result.queries} queries, ${database.kind}, lexical BM25 via the search API)`);
  console.log(`  nDCG@10    ${result.ndcg10.toFixed(4)}${anchor ? `   (published ${anchor.source}: ${anchor.ndcg10.toFixed(4)}; delta ${(result.ndcg10 - anchor.ndcg10 >= 0 ? '+' : '')}${(result.ndcg10 - anchor.ndcg10).toFixed(4)})` : ''}`);
  console.log(`  Recall@100 ${result.recall100.toFixed(4)}`);
  console.log(`  MRR@10     ${result.mrr10.toFixed(4)}`);
  console.log(`  search latency through the API: p50 ${result.p50.toFixed(1)} ms, p95 ${result.p95.toFixed(1)} ms`);
  console.log(`  total run time ${((Date.now() - started) / 1000).toFixed(0)} s`);
  await app.close();
} finally {
  await database.close();
  rmSync(root, { recursive: true, force: true });
}

/** Document ranking from chunk ranking: a document takes the rank of its best chunk. */
function dedupeDocuments(results: { key: string }[]): string[] {
  const seen = new Set<string>();
  for (const result of results) seen.add(result.key);
  return [...seen];
}

export type { Qrels };
