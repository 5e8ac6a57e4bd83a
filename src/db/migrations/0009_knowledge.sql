CREATE TYPE "public"."data_source_kind" AS ENUM('manual', 'web');--> statement-breakpoint
CREATE TYPE "public"."data_source_status" AS ENUM('idle', 'syncing', 'error');--> statement-breakpoint
CREATE TYPE "public"."document_status" AS ENUM('pending', 'processing', 'ready', 'failed');--> statement-breakpoint
CREATE TYPE "public"."embedding_index_status" AS ENUM('building', 'active', 'retired');--> statement-breakpoint
CREATE TABLE "chunk_embeddings" (
	"chunk_id" uuid NOT NULL,
	"model_key" text NOT NULL,
	"organization_id" uuid NOT NULL,
	"data_source_id" uuid NOT NULL,
	"embedding" vector NOT NULL,
	CONSTRAINT "chunk_embeddings_pk" PRIMARY KEY("chunk_id","model_key")
);
--> statement-breakpoint
ALTER TABLE "chunk_embeddings" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "chunk_terms" (
	"organization_id" uuid NOT NULL,
	"data_source_id" uuid NOT NULL,
	"chunk_id" uuid NOT NULL,
	"analyzer" text NOT NULL,
	"term" text NOT NULL,
	"term_frequency" smallint NOT NULL,
	"chunk_length" integer NOT NULL,
	CONSTRAINT "chunk_terms_pk" PRIMARY KEY("organization_id","analyzer","term","chunk_id")
);
--> statement-breakpoint
ALTER TABLE "chunk_terms" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "chunks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"data_source_id" uuid NOT NULL,
	"document_id" uuid NOT NULL,
	"document_version" integer NOT NULL,
	"ordinal" integer NOT NULL,
	"text" text NOT NULL,
	"heading_path" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"page_start" integer,
	"page_end" integer,
	"token_count" integer NOT NULL,
	"language" text NOT NULL,
	"lexical_length" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chunks" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "data_sources" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"name" varchar(40) NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"kind" "data_source_kind" NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" "data_source_status" DEFAULT 'idle' NOT NULL,
	"status_reason" text,
	"last_synced_at" timestamp with time zone,
	"document_count" integer DEFAULT 0 NOT NULL,
	"word_count" bigint DEFAULT 0 NOT NULL,
	"chunk_count" integer DEFAULT 0 NOT NULL,
	"lexical_length" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "data_sources" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "document_files" (
	"document_id" uuid PRIMARY KEY NOT NULL,
	"organization_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"bytes" "bytea" NOT NULL
);
--> statement-breakpoint
ALTER TABLE "document_files" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "documents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"data_source_id" uuid NOT NULL,
	"external_key" text NOT NULL,
	"title" text NOT NULL,
	"content_hash" text NOT NULL,
	"mime_type" text,
	"status" "document_status" DEFAULT 'pending' NOT NULL,
	"failure_reason" text,
	"language" text,
	"version" integer DEFAULT 1 NOT NULL,
	"indexed_version" integer,
	"size_bytes" integer NOT NULL,
	"pages" integer,
	"word_count" integer DEFAULT 0 NOT NULL,
	"chunk_count" integer DEFAULT 0 NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "documents" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "embedding_indexes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"model_key" text NOT NULL,
	"dimension" integer NOT NULL,
	"status" "embedding_index_status" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"activated_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "embedding_indexes" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "term_stats" (
	"organization_id" uuid NOT NULL,
	"data_source_id" uuid NOT NULL,
	"analyzer" text NOT NULL,
	"term" text NOT NULL,
	"document_frequency" integer NOT NULL,
	CONSTRAINT "term_stats_pk" PRIMARY KEY("organization_id","analyzer","term","data_source_id")
);
--> statement-breakpoint
ALTER TABLE "term_stats" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "chunk_embeddings" ADD CONSTRAINT "chunk_embeddings_chunk_id_chunks_id_fk" FOREIGN KEY ("chunk_id") REFERENCES "public"."chunks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chunk_terms" ADD CONSTRAINT "chunk_terms_chunk_id_chunks_id_fk" FOREIGN KEY ("chunk_id") REFERENCES "public"."chunks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chunks" ADD CONSTRAINT "chunks_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "chunks" ADD CONSTRAINT "chunks_document_id_documents_id_fk" FOREIGN KEY ("document_id") REFERENCES "public"."documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "data_sources" ADD CONSTRAINT "data_sources_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "document_files" ADD CONSTRAINT "document_files_document_id_documents_id_fk" FOREIGN KEY ("document_id") REFERENCES "public"."documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "document_files" ADD CONSTRAINT "document_files_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "documents" ADD CONSTRAINT "documents_data_source_id_data_sources_id_fk" FOREIGN KEY ("data_source_id") REFERENCES "public"."data_sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "embedding_indexes" ADD CONSTRAINT "embedding_indexes_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "term_stats" ADD CONSTRAINT "term_stats_data_source_id_data_sources_id_fk" FOREIGN KEY ("data_source_id") REFERENCES "public"."data_sources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chunk_embeddings_org_model_idx" ON "chunk_embeddings" USING btree ("organization_id","model_key","data_source_id");--> statement-breakpoint
CREATE INDEX "chunk_terms_chunk_idx" ON "chunk_terms" USING btree ("chunk_id");--> statement-breakpoint
CREATE UNIQUE INDEX "chunks_document_version_ordinal_unique" ON "chunks" USING btree ("document_id","document_version","ordinal");--> statement-breakpoint
CREATE INDEX "chunks_org_source_idx" ON "chunks" USING btree ("organization_id","data_source_id");--> statement-breakpoint
CREATE UNIQUE INDEX "data_sources_org_name_unique" ON "data_sources" USING btree ("organization_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "documents_source_key_unique" ON "documents" USING btree ("data_source_id","external_key");--> statement-breakpoint
CREATE INDEX "documents_org_source_idx" ON "documents" USING btree ("organization_id","data_source_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "embedding_indexes_org_model_unique" ON "embedding_indexes" USING btree ("organization_id","model_key");--> statement-breakpoint
CREATE UNIQUE INDEX "embedding_indexes_one_active" ON "embedding_indexes" USING btree ("organization_id") WHERE "embedding_indexes"."status" = 'active';--> statement-breakpoint
CREATE UNIQUE INDEX "embedding_indexes_one_building" ON "embedding_indexes" USING btree ("organization_id") WHERE "embedding_indexes"."status" = 'building';--> statement-breakpoint
CREATE INDEX "term_stats_source_idx" ON "term_stats" USING btree ("data_source_id");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "chunk_embeddings" AS PERMISSIVE FOR ALL TO "savoir_app" USING ("chunk_embeddings"."organization_id" = nullif(current_setting('app.org', true), '')::uuid) WITH CHECK ("chunk_embeddings"."organization_id" = nullif(current_setting('app.org', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "chunk_terms" AS PERMISSIVE FOR ALL TO "savoir_app" USING ("chunk_terms"."organization_id" = nullif(current_setting('app.org', true), '')::uuid) WITH CHECK ("chunk_terms"."organization_id" = nullif(current_setting('app.org', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "chunks" AS PERMISSIVE FOR ALL TO "savoir_app" USING ("chunks"."organization_id" = nullif(current_setting('app.org', true), '')::uuid) WITH CHECK ("chunks"."organization_id" = nullif(current_setting('app.org', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "data_sources" AS PERMISSIVE FOR ALL TO "savoir_app" USING ("data_sources"."organization_id" = nullif(current_setting('app.org', true), '')::uuid) WITH CHECK ("data_sources"."organization_id" = nullif(current_setting('app.org', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "document_files" AS PERMISSIVE FOR ALL TO "savoir_app" USING ("document_files"."organization_id" = nullif(current_setting('app.org', true), '')::uuid) WITH CHECK ("document_files"."organization_id" = nullif(current_setting('app.org', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "documents" AS PERMISSIVE FOR ALL TO "savoir_app" USING ("documents"."organization_id" = nullif(current_setting('app.org', true), '')::uuid) WITH CHECK ("documents"."organization_id" = nullif(current_setting('app.org', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "embedding_indexes" AS PERMISSIVE FOR ALL TO "savoir_app" USING ("embedding_indexes"."organization_id" = nullif(current_setting('app.org', true), '')::uuid) WITH CHECK ("embedding_indexes"."organization_id" = nullif(current_setting('app.org', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "term_stats" AS PERMISSIVE FOR ALL TO "savoir_app" USING ("term_stats"."organization_id" = nullif(current_setting('app.org', true), '')::uuid) WITH CHECK ("term_stats"."organization_id" = nullif(current_setting('app.org', true), '')::uuid);