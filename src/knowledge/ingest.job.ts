import { withTenant, type TenantContext } from '../db/tenancy.ts';
import type { JobContext } from '../ops/jobs/runner.ts';
import { PermanentJobError } from '../ops/jobs/runner.ts';
import { analyzerOf, countTokens, countWords, detectLanguage, type Language } from './analysis/text-analysis.ts';
import { chunkBlocks, defaultChunkOptions, type Chunk } from './chunker.ts';
import { findDocument, findDocumentFile, markBatchProcessing, markDocument } from './documents.repo.ts';
import { currentEmbeddingIndexes } from './embedding-indexes.repo.ts';
import { replaceDocumentChunks, type ChunkToIndex } from './index.repo.ts';
import type { KnowledgeDeps } from './knowledge-deps.ts';
import { parseDocument } from './parsers/parse-document.ts';
import { UnprocessableDocumentError, type ParsedDocument } from './parsers/types.ts';
import { prechunkedSchema, PRECHUNKED_FORMAT } from './prechunked.ts';

const PROGRESS_INTERVAL_MS = 500;

interface IngestPayload {
  dataSourceId: string;
  documents: { id: string; version: number }[];
}

/**
 * Processes a batch document by document. Each document is indexed in its own transaction, so a
 * crash leaves every document either fully indexed at its version or untouched; the rerun skips
 * documents already indexed at the version it was asked for. A bad file fails alone.
 */
export function ingestJobHandler(deps: KnowledgeDeps) {
  return async ({ job, signal, reportProgress }: JobContext) => {
    if (!job.organizationId) throw new PermanentJobError('an ingestion job needs an organisation');
    const tenant: TenantContext = { organizationId: job.organizationId };
    const payload = job.payload as IngestPayload;
    const total = payload.documents.length;
    const outcome = { indexed: 0, skipped: 0, failed: 0, chunks: 0 };
    await reportProgress(0, total);
    await withTenant(deps.db, tenant, (tx) => markBatchProcessing(tx, tenant, payload.documents));
    // Progress is written at most every PROGRESS_INTERVAL_MS (and at the end): one transaction per
    // document just for a progress bar would cost as much as indexing a small document.
    let reportedAt = Date.now();
    for (const [index, item] of payload.documents.entries()) {
      signal.throwIfAborted();
      const result = await ingestOne(deps, tenant, item.id, item.version);
      outcome[result.outcome] += 1;
      outcome.chunks += result.chunks;
      if (Date.now() - reportedAt >= PROGRESS_INTERVAL_MS || index + 1 === total) {
        await reportProgress(index + 1, total);
        reportedAt = Date.now();
      }
    }
    return outcome;
  };
}

async function ingestOne(deps: KnowledgeDeps, tenant: TenantContext, documentId: string, version: number): Promise<{ outcome: 'indexed' | 'skipped' | 'failed'; chunks: number }> {
  const loaded = await withTenant(deps.db, tenant, async (tx) => {
    const document = await findDocument(tx, tenant, documentId);
    if (!document || document.version !== version || document.indexedVersion === version || document.status === 'failed') return undefined;
    const file = await findDocumentFile(tx, tenant, documentId);
    if (!file || file.version !== version) return undefined;
    return { document, file };
  });
  if (!loaded) return { outcome: 'skipped', chunks: 0 };
  const { document, file } = loaded;

  let parsed: { title?: string; mimeType: string; pages: number | null; chunks: Chunk[]; text: string };
  try {
    parsed = await parseAndChunk(deps, file.bytes, document.metadata as Record<string, unknown>);
  } catch (error) {
    if (!(error instanceof UnprocessableDocumentError)) throw error;
    await withTenant(deps.db, tenant, (tx) => markDocument(tx, tenant, documentId, version, { status: 'failed', failureReason: error.message }));
    return { outcome: 'failed', chunks: 0 };
  }
  const language: Language = detectLanguage(parsed.text);
  const title = document.title !== document.externalKey ? document.title : (parsed.title ?? document.title);
  const toIndex: ChunkToIndex[] = parsed.chunks.map((chunk) => ({
    ...chunk,
    language,
    analyzer: analyzerOf[language],
    lexicalText: [...new Set([title, ...chunk.headingPath])].join('\n') + '\n' + chunk.text,
    embeddings: {},
  }));
  await embedChunks(deps, tenant, toIndex, title);
  const replaced = await withTenant(deps.db, tenant, (tx) =>
    replaceDocumentChunks(tx, tenant, {
      documentId,
      dataSourceId: document.dataSourceId,
      version,
      title,
      mimeType: parsed.mimeType,
      language,
      pages: parsed.pages,
      wordCount: countWords(parsed.text),
      chunks: toIndex,
    }),
  );
  return replaced ? { outcome: 'indexed', chunks: toIndex.length } : { outcome: 'skipped', chunks: 0 };
}

async function parseAndChunk(deps: KnowledgeDeps, bytes: Buffer, metadata: Record<string, unknown>) {
  if (metadata.format === PRECHUNKED_FORMAT) {
    const parsedJson = prechunkedSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    if (!parsedJson.success) throw new UnprocessableDocumentError('the pre-chunked document is not valid');
    const chunks: Chunk[] = parsedJson.data.chunks.map((chunk, ordinal) => ({
      ordinal,
      text: chunk.text,
      headingPath: chunk.headingPath ?? [],
      pageStart: chunk.pageStart ?? null,
      pageEnd: chunk.pageEnd ?? chunk.pageStart ?? null,
      tokenCount: countTokens(chunk.text),
    }));
    return { mimeType: 'application/vnd.savoir.chunks+json', pages: null, chunks, text: chunks.map((c) => c.text).join('\n') };
  }
  const parsed: ParsedDocument & { mimeType: string } = await parseDocument(bytes, { maxFileBytes: deps.maxFileBytes });
  const chunks = chunkBlocks(parsed.blocks, deps.chunkOptions ?? defaultChunkOptions);
  return { title: parsed.title, mimeType: parsed.mimeType, pages: parsed.pages ?? null, chunks, text: parsed.blocks.map((b) => b.text).join('\n') };
}

/** Embeds chunks for the serving model and for the one being built, if any, in batches. */
async function embedChunks(deps: KnowledgeDeps, tenant: TenantContext, toIndex: ChunkToIndex[], title: string): Promise<void> {
  if (!deps.resolveEmbeddingProvider || toIndex.length === 0) return;
  const { active, building } = await withTenant(deps.db, tenant, (tx) => currentEmbeddingIndexes(tx, tenant));
  for (const index of [active, building]) {
    if (!index) continue;
    const provider = await deps.resolveEmbeddingProvider(tenant.organizationId, index.modelKey);
    if (!provider) continue;
    const batchSize = deps.embeddingBatchSize ?? 32;
    for (let start = 0; start < toIndex.length; start += batchSize) {
      const batch = toIndex.slice(start, start + batchSize);
      const vectors = await provider.embed(batch.map((chunk) => embeddingText(title, chunk.headingPath, chunk.text)), { purpose: 'document' });
      batch.forEach((chunk, i) => {
        const vector = vectors[i];
        if (vector) chunk.embeddings[index.modelKey] = vector;
      });
    }
  }
}

export function embeddingText(title: string, headingPath: string[], text: string): string {
  return `${[...new Set([title, ...headingPath])].filter(Boolean).join(' > ')}\n${text}`;
}
