import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, pgEnum, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from './organizations.ts';
import { tenantIsolationPolicy } from './tenancy.ts';

/** Which client speaks to the provider. */
export const providerProtocol = pgEnum('provider_protocol', ['openai', 'azure-openai', 'local']);
/**
 * Where data sent to the provider is processed: in the EU, outside it, on this server, or
 * stated per configuration (Azure: the resource's region; a self-hosted server: the operator says).
 */
export const providerRegion = pgEnum('provider_region', ['eu', 'non-eu', 'on-server', 'per-configuration']);
export const modelKind = pgEnum('model_kind', ['chat', 'embedding']);

/** The provider catalogue with its compliance metadata. Platform table (no organisation), edited by operators. */
export const catalogueProviders = pgTable('catalogue_providers', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  protocol: providerProtocol('protocol').notNull(),
  description: text('description').notNull().default(''),
  region: providerRegion('region').notNull(),
  /** Human wording of the data location, e.g. "France (Paris)". */
  dataLocation: text('data_location').notNull(),
  /** Whether the provider reuses the data sent to it to train its models. */
  trainsOnData: boolean('trains_on_data').notNull(),
  policyUrl: text('policy_url').notNull(),
  defaultBaseUrl: text('default_base_url'),
  /** Self-hosted servers serve whatever the operator loaded: any model name is accepted. */
  acceptsAnyModel: boolean('accepts_any_model').notNull().default(false),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const catalogueModels = pgTable(
  'catalogue_models',
  {
    providerId: text('provider_id')
      .notNull()
      .references(() => catalogueProviders.id, { onDelete: 'cascade' }),
    model: text('model').notNull(),
    kind: modelKind('kind').notNull(),
    contextLengthTokens: integer('context_length_tokens').notNull(),
    embeddingDimension: integer('embedding_dimension'),
    /** Operators retire a model instead of deleting it, so the start-up seed does not bring it back. */
    retiredAt: timestamp('retired_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    primaryKey({ columns: [table.providerId, table.model, table.kind] }),
    check('catalogue_models_dimension', sql`(${table.kind} = 'embedding') = (${table.embeddingDimension} is not null)`),
  ],
);

/** An organisation's data policy; a missing row means the defaults (both switches on). */
export const organizationDataPolicies = pgTable(
  'organization_data_policies',
  {
    organizationId: uuid('organization_id')
      .primaryKey()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    euOnly: boolean('eu_only').notNull().default(true),
    noTraining: boolean('no_training').notNull().default(true),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [tenantIsolationPolicy(table.organizationId)],
);

/** An organisation's connection to a provider. Credentials are sealed by the key ring. */
export const providerConfigs = pgTable(
  'provider_configs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    providerId: text('provider_id')
      .notNull()
      .references(() => catalogueProviders.id),
    label: text('label').notNull(),
    /** Sealed API key (see src/crypto/key-ring.ts); AAD `provider_config:<id>:credentials`. */
    credentialsSealed: text('credentials_sealed'),
    /** The last characters of the key, for people to recognise it. */
    credentialsHint: text('credentials_hint'),
    endpoint: text('endpoint'),
    region: text('region'),
    azureDeployment: text('azure_deployment'),
    azureApiVersion: text('azure_api_version'),
    /** For providers whose location is stated per configuration (self-hosted servers). */
    statedRegion: text('stated_region'),
    statedDataLocation: text('stated_data_location'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('provider_configs_organization_idx').on(table.organizationId, table.createdAt),
    check('provider_configs_stated_region', sql`${table.statedRegion} is null or ${table.statedRegion} in ('eu', 'non-eu')`),
    tenantIsolationPolicy(table.organizationId),
  ],
);

/** Tokens consumed, per organisation, assistant and model. Append-only (UPDATE/DELETE revoked). */
export const tokenUsage = pgTable(
  'token_usage',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    organizationId: uuid('organization_id')
      .notNull()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    /** The assistant the call was made for; its table belongs to the assistants room (no foreign key yet). */
    assistantId: uuid('assistant_id'),
    providerConfigId: uuid('provider_config_id'),
    providerId: text('provider_id').notNull(),
    model: text('model').notNull(),
    kind: modelKind('kind').notNull(),
    promptTokens: bigint('prompt_tokens', { mode: 'number' }).notNull(),
    completionTokens: bigint('completion_tokens', { mode: 'number' }).notNull(),
    /** True when the provider reported no usage and Savoir estimated it from the text length. */
    estimated: boolean('estimated').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('token_usage_organization_idx').on(table.organizationId, table.createdAt),
    tenantIsolationPolicy(table.organizationId),
  ],
);

export type CatalogueProviderRow = typeof catalogueProviders.$inferSelect;
export type CatalogueModelRow = typeof catalogueModels.$inferSelect;
export type ProviderConfigRow = typeof providerConfigs.$inferSelect;
export type OrganizationDataPolicyRow = typeof organizationDataPolicies.$inferSelect;
