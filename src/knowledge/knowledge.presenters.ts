import { z } from 'zod';
import type { DataSource, DocumentRow } from '../db/schema/index.ts';

export const dataSourceViewSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  description: z.string(),
  kind: z.enum(['manual', 'web']),
  settings: z.record(z.string(), z.unknown()),
  status: z.enum(['idle', 'syncing', 'error']),
  statusReason: z.string().nullable(),
  lastSyncedAt: z.string().nullable(),
  documentCount: z.number().int(),
  wordCount: z.number().int(),
  chunkCount: z.number().int(),
  createdAt: z.string(),
});

export function presentDataSource(source: DataSource): z.infer<typeof dataSourceViewSchema> {
  return {
    id: source.id,
    name: source.name,
    description: source.description,
    kind: source.kind,
    settings: source.settings as Record<string, unknown>,
    status: source.status,
    statusReason: source.statusReason,
    lastSyncedAt: source.lastSyncedAt?.toISOString() ?? null,
    documentCount: source.documentCount,
    wordCount: source.wordCount,
    chunkCount: source.chunkCount,
    createdAt: source.createdAt.toISOString(),
  };
}

export const documentViewSchema = z.object({
  id: z.uuid(),
  dataSourceId: z.uuid(),
  key: z.string(),
  title: z.string(),
  status: z.enum(['pending', 'processing', 'ready', 'failed']),
  failureReason: z.string().nullable(),
  mimeType: z.string().nullable(),
  language: z.string().nullable(),
  version: z.number().int(),
  contentHash: z.string(),
  sizeBytes: z.number().int(),
  pages: z.number().int().nullable(),
  wordCount: z.number().int(),
  chunkCount: z.number().int(),
  updatedAt: z.string(),
});

export function presentDocument(document: DocumentRow): z.infer<typeof documentViewSchema> {
  return {
    id: document.id,
    dataSourceId: document.dataSourceId,
    key: document.externalKey,
    title: document.title,
    status: document.status,
    failureReason: document.failureReason,
    mimeType: document.mimeType,
    language: document.language,
    version: document.version,
    contentHash: document.contentHash,
    sizeBytes: document.sizeBytes,
    pages: document.pages,
    wordCount: document.wordCount,
    chunkCount: document.chunkCount,
    updatedAt: document.updatedAt.toISOString(),
  };
}

export const submissionViewSchema = z.object({
  jobId: z.uuid().nullable(),
  documents: z.array(
    z.object({ id: z.uuid(), key: z.string(), status: z.string(), changed: z.boolean(), version: z.number().int(), failureReason: z.string().nullable() }),
  ),
});

export const searchResultSchema = z.object({
  chunkId: z.uuid(),
  text: z.string(),
  headingPath: z.array(z.string()),
  pageStart: z.number().int().nullable(),
  pageEnd: z.number().int().nullable(),
  score: z.number(),
  retrievers: z.array(z.enum(['lexical', 'vector'])),
  ranks: z.object({ lexical: z.number().int().optional(), vector: z.number().int().optional() }),
  document: z.object({ id: z.uuid(), title: z.string(), externalKey: z.string() }),
  dataSource: z.object({ id: z.uuid(), name: z.string() }),
});
