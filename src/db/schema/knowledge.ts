import { sql } from 'drizzle-orm';
import { bigint, customType, index, integer, jsonb, pgEnum, pgTable, primaryKey, smallint, text, timestamp, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';
import { organizations } from './organizations.ts';
import { tenantIsolationPolicy } from './tenancy.ts';

export const dataSourceKind = pgEnum('data_source_kind', ['manual', 'web']);
export const dataSourceStatus = pgEnum('data_source_status', ['idle', 'syncing', 'error']);
export const documentStatus = pgEnum('document_status', ['pending', 'processing', 'ready', 'failed']);
export const embeddingIndexStatus = pgEnum('embedding_index_status', ['building', 'active', 'retired']);

/**
 * An untyped pgvector column: the dimension depends on the embedding model, and several models'
 * vectors live side by side while an index is rebuilt. Distances cast to the model's dimension.
 */
const anyVector = customType<{ data: number[]; driverData: string }>({
  dataType: () => 'vector',
  toDriver: (value) => `[${value.join(',')}]`,
  fromDriver: (value) => JSON.parse(value) as number[],
});

export const dataSources = pgTable(
  'data_sources',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: uuid('organization_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }),
    name: varchar('name', { length: 40 }).notNull(),
    description: text('description').notNull().default(''),
    kind: dataSourceKind('kind').notNull(),
    settings: jsonb('settings').notNull().default({}),
    status: dataSourceStatus('status').notNull().default('idle'),
    statusReason: text('status_reason'),
    lastSyncedAt: timestamp('last_synced_at', { withTimezone: true }),
    // Maintained by the indexer in the same transaction as the chunks they count; BM25 reads
    // chunkCount and lexicalLength (N and average length) from here instead of scanning chunks.
    documentCount: integer('document_count').notNull().default(0),
    wordCount: bigint('word_count', { mode: 'number' }).notNull().default(0),
    chunkCount: integer('chunk_count').notNull().default(0),
    lexicalLength: bigint('lexical_length', { mode: 'number' }).notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [uniqueIndex('data_sources_org_name_unique').on(table.organizationId, table.name), tenantIsolationPolicy(table.organizationId)],
);

export const documents = pgTable(
  'documents',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: uuid('organization_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }),
    dataSourceId: uuid('data_source_id').notNull().references(() => dataSources.id, { onDelete: 'cascade' }),
    /** What identifies the document inside its source across versions: file name, URL, client id. */
    externalKey: text('external_key').notNull(),
    title: text('title').notNull(),
    contentHash: text('content_hash').notNull(),
    mimeType: text('mime_type'),
    status: documentStatus('status').notNull().default('pending'),
    failureReason: text('failure_reason'),
    language: text('language'),
    /** Increases when new content arrives; chunks carry the version they were made from. */
    version: integer('version').notNull().default(1),
    /** The version whose chunks are searchable (null until the first version is indexed). */
    indexedVersion: integer('indexed_version'),
    sizeBytes: integer('size_bytes').notNull(),
    pages: integer('pages'),
    wordCount: integer('word_count').notNull().default(0),
    chunkCount: integer('chunk_count').notNull().default(0),
    metadata: jsonb('metadata').notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('documents_source_key_unique').on(table.dataSourceId, table.externalKey),
    index('documents_org_source_idx').on(table.organizationId, table.dataSourceId, table.createdAt),
    tenantIsolationPolicy(table.organizationId),
  ],
);

/** The bytes of a document's current version, kept so a job can (re)process it after a crash. */
export const documentFiles = pgTable(
  'document_files',
  {
    documentId: uuid('document_id').primaryKey().references(() => documents.id, { onDelete: 'cascade' }),
    organizationId: uuid('organization_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }),
    version: integer('version').notNull(),
    bytes: customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' })('bytes').notNull(),
  },
  (table) => [tenantIsolationPolicy(table.organizationId)],
);

export const chunks = pgTable(
  'chunks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: uuid('organization_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }),
    dataSourceId: uuid('data_source_id').notNull(),
    documentId: uuid('document_id').notNull().references(() => documents.id, { onDelete: 'cascade' }),
    documentVersion: integer('document_version').notNull(),
    ordinal: integer('ordinal').notNull(),
    text: text('text').notNull(),
    headingPath: jsonb('heading_path').$type<string[]>().notNull().default([]),
    pageStart: integer('page_start'),
    pageEnd: integer('page_end'),
    tokenCount: integer('token_count').notNull(),
    language: text('language').notNull(),
    /** Number of indexed terms (BM25 document length). */
    lexicalLength: integer('lexical_length').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    // A retried job inserting the same chunk again is a no-op: this is what makes indexing idempotent.
    uniqueIndex('chunks_document_version_ordinal_unique').on(table.documentId, table.documentVersion, table.ordinal),
    index('chunks_org_source_idx').on(table.organizationId, table.dataSourceId),
    tenantIsolationPolicy(table.organizationId),
  ],
);

/**
 * The persisted inverted index for BM25: one row per (chunk, analysed term) with its term
 * frequency and the chunk's length. Document frequencies are counted from the posting lists of
 * the query's terms at search time, so they are always exact and need no shared counter rows.
 */
export const chunkTerms = pgTable(
  'chunk_terms',
  {
    organizationId: uuid('organization_id').notNull(),
    dataSourceId: uuid('data_source_id').notNull(),
    chunkId: uuid('chunk_id').notNull().references(() => chunks.id, { onDelete: 'cascade' }),
    /** Text-search configuration that produced the term ('english', 'french', 'simple'). */
    analyzer: text('analyzer').notNull(),
    term: text('term').notNull(),
    termFrequency: smallint('term_frequency').notNull(),
    chunkLength: integer('chunk_length').notNull(),
  },
  (table) => [
    primaryKey({ name: 'chunk_terms_pk', columns: [table.organizationId, table.analyzer, table.term, table.chunkId] }),
    index('chunk_terms_chunk_idx').on(table.chunkId),
    tenantIsolationPolicy(table.organizationId),
  ],
);

/**
 * Document frequency of each term per source, maintained by the indexer in the transaction that
 * writes or removes postings. It gives BM25 its IDF without reading posting lists, so a search can
 * bound each term's contribution and skip the long lists of common terms (see lexical.repo.ts).
 */
export const termStats = pgTable(
  'term_stats',
  {
    organizationId: uuid('organization_id').notNull(),
    dataSourceId: uuid('data_source_id').notNull().references(() => dataSources.id, { onDelete: 'cascade' }),
    analyzer: text('analyzer').notNull(),
    term: text('term').notNull(),
    documentFrequency: integer('document_frequency').notNull(),
  },
  (table) => [
    primaryKey({ name: 'term_stats_pk', columns: [table.organizationId, table.analyzer, table.term, table.dataSourceId] }),
    index('term_stats_source_idx').on(table.dataSourceId),
    tenantIsolationPolicy(table.organizationId),
  ],
);

/**
 * Vectors, one row per (chunk, model): during a model change the old model's vectors keep serving
 * while the new model's are written beside them. The column is untyped `vector`; a search casts to
 * the model's dimension.
 */
export const chunkEmbeddings = pgTable(
  'chunk_embeddings',
  {
    chunkId: uuid('chunk_id').notNull().references(() => chunks.id, { onDelete: 'cascade' }),
    modelKey: text('model_key').notNull(),
    organizationId: uuid('organization_id').notNull(),
    dataSourceId: uuid('data_source_id').notNull(),
    embedding: anyVector('embedding').notNull(),
  },
  (table) => [
    primaryKey({ name: 'chunk_embeddings_pk', columns: [table.chunkId, table.modelKey] }),
    index('chunk_embeddings_org_model_idx').on(table.organizationId, table.modelKey, table.dataSourceId),
    tenantIsolationPolicy(table.organizationId),
  ],
);

/** Which embedding model serves an organisation's searches, and which one is being built. */
export const embeddingIndexes = pgTable(
  'embedding_indexes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: uuid('organization_id').notNull().references(() => organizations.id, { onDelete: 'cascade' }),
    modelKey: text('model_key').notNull(),
    dimension: integer('dimension').notNull(),
    status: embeddingIndexStatus('status').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    activatedAt: timestamp('activated_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('embedding_indexes_org_model_unique').on(table.organizationId, table.modelKey),
    // At most one serving and one building index per organisation.
    uniqueIndex('embedding_indexes_one_active').on(table.organizationId).where(sql`${table.status} = 'active'`),
    uniqueIndex('embedding_indexes_one_building').on(table.organizationId).where(sql`${table.status} = 'building'`),
    tenantIsolationPolicy(table.organizationId),
  ],
);

export type DataSource = typeof dataSources.$inferSelect;
export type DocumentRow = typeof documents.$inferSelect;
export type ChunkRow = typeof chunks.$inferSelect;
