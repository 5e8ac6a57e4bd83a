import type { AppDb } from '../db/client.ts';
import type { EmbeddingProvider } from '../providers/embeddings/embedding-provider.ts';
import type { ChunkOptions } from './chunker.ts';
import type { Bm25Parameters } from './lexical.repo.ts';

/** Finds the provider for an organisation's embedding model key (wired to the providers room). */
export type EmbeddingResolver = (organizationId: string, modelKey: string) => Promise<EmbeddingProvider | undefined>;

export interface KnowledgeDeps {
  db: AppDb;
  resolveEmbeddingProvider?: EmbeddingResolver;
  maxFileBytes: number;
  chunkOptions?: ChunkOptions;
  bm25?: Bm25Parameters;
  /** Texts per embedding call. */
  embeddingBatchSize?: number;
  crawler?: { allowPrivateNetwork?: boolean; timeoutMs?: number };
  /** How long a search waits for its query's embedding before answering with BM25 alone. */
  queryEmbeddingTimeoutMs?: number;
}

export const DEFAULT_MAX_FILE_BYTES = 25 * 1024 * 1024;
