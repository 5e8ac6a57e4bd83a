CREATE TYPE "public"."model_kind" AS ENUM('chat', 'embedding');--> statement-breakpoint
CREATE TYPE "public"."provider_protocol" AS ENUM('openai', 'azure-openai', 'local');--> statement-breakpoint
CREATE TYPE "public"."provider_region" AS ENUM('eu', 'non-eu', 'on-server', 'per-configuration');--> statement-breakpoint
CREATE TABLE "data_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"wrapped_key" text NOT NULL,
	"master_key_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "catalogue_models" (
	"provider_id" text NOT NULL,
	"model" text NOT NULL,
	"kind" "model_kind" NOT NULL,
	"context_length_tokens" integer NOT NULL,
	"embedding_dimension" integer,
	"retired_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "catalogue_models_provider_id_model_kind_pk" PRIMARY KEY("provider_id","model","kind"),
	CONSTRAINT "catalogue_models_dimension" CHECK (("catalogue_models"."kind" = 'embedding') = ("catalogue_models"."embedding_dimension" is not null))
);
--> statement-breakpoint
CREATE TABLE "catalogue_providers" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"protocol" "provider_protocol" NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"region" "provider_region" NOT NULL,
	"data_location" text NOT NULL,
	"trains_on_data" boolean NOT NULL,
	"policy_url" text NOT NULL,
	"default_base_url" text,
	"accepts_any_model" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "organization_data_policies" (
	"organization_id" uuid PRIMARY KEY NOT NULL,
	"eu_only" boolean DEFAULT true NOT NULL,
	"no_training" boolean DEFAULT true NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "organization_data_policies" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "provider_configs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"provider_id" text NOT NULL,
	"label" text NOT NULL,
	"credentials_sealed" text,
	"credentials_hint" text,
	"endpoint" text,
	"region" text,
	"azure_deployment" text,
	"azure_api_version" text,
	"stated_region" text,
	"stated_data_location" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "provider_configs_stated_region" CHECK ("provider_configs"."stated_region" is null or "provider_configs"."stated_region" in ('eu', 'non-eu'))
);
--> statement-breakpoint
ALTER TABLE "provider_configs" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE TABLE "token_usage" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"organization_id" uuid NOT NULL,
	"assistant_id" uuid,
	"provider_config_id" uuid,
	"provider_id" text NOT NULL,
	"model" text NOT NULL,
	"kind" "model_kind" NOT NULL,
	"prompt_tokens" bigint NOT NULL,
	"completion_tokens" bigint NOT NULL,
	"estimated" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "token_usage" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
ALTER TABLE "catalogue_models" ADD CONSTRAINT "catalogue_models_provider_id_catalogue_providers_id_fk" FOREIGN KEY ("provider_id") REFERENCES "public"."catalogue_providers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "organization_data_policies" ADD CONSTRAINT "organization_data_policies_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_configs" ADD CONSTRAINT "provider_configs_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "provider_configs" ADD CONSTRAINT "provider_configs_provider_id_catalogue_providers_id_fk" FOREIGN KEY ("provider_id") REFERENCES "public"."catalogue_providers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "token_usage" ADD CONSTRAINT "token_usage_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "data_keys_active_idx" ON "data_keys" USING btree ("created_at") WHERE "data_keys"."retired_at" is null;--> statement-breakpoint
CREATE INDEX "provider_configs_organization_idx" ON "provider_configs" USING btree ("organization_id","created_at");--> statement-breakpoint
CREATE INDEX "token_usage_organization_idx" ON "token_usage" USING btree ("organization_id","created_at");--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "organization_data_policies" AS PERMISSIVE FOR ALL TO "savoir_app" USING ("organization_data_policies"."organization_id" = nullif(current_setting('app.org', true), '')::uuid) WITH CHECK ("organization_data_policies"."organization_id" = nullif(current_setting('app.org', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "provider_configs" AS PERMISSIVE FOR ALL TO "savoir_app" USING ("provider_configs"."organization_id" = nullif(current_setting('app.org', true), '')::uuid) WITH CHECK ("provider_configs"."organization_id" = nullif(current_setting('app.org', true), '')::uuid);--> statement-breakpoint
CREATE POLICY "tenant_isolation" ON "token_usage" AS PERMISSIVE FOR ALL TO "savoir_app" USING ("token_usage"."organization_id" = nullif(current_setting('app.org', true), '')::uuid) WITH CHECK ("token_usage"."organization_id" = nullif(current_setting('app.org', true), '')::uuid);