import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { AppDb, AppTx } from '../../db/client.ts';
import { catalogueModels, catalogueProviders, type CatalogueModelRow, type CatalogueProviderRow } from '../../db/schema/index.ts';
import { catalogueSeed } from './catalogue-seed.ts';

/**
 * The catalogue is platform data (no organisation, no RLS): every organisation reads the same
 * entries; only operators change them.
 */
export interface CatalogueEntry extends CatalogueProviderRow {
  models: CatalogueModelRow[];
}

/** Inserts seed providers and models that are missing; never overwrites an operator's edit. */
export async function seedCatalogue(db: AppDb | AppTx): Promise<void> {
  for (const provider of catalogueSeed) {
    const { models, ...row } = provider;
    await db.insert(catalogueProviders).values(row).onConflictDoNothing();
    await db
      .insert(catalogueModels)
      .values(models.map((m) => ({ providerId: provider.id, model: m.model, kind: m.kind, contextLengthTokens: m.contextLengthTokens, embeddingDimension: m.embeddingDimension ?? null })))
      .onConflictDoNothing();
  }
}

export async function listCatalogue(db: AppDb | AppTx, options: { includeRetired?: boolean } = {}): Promise<CatalogueEntry[]> {
  const providers = await db.select().from(catalogueProviders).orderBy(asc(catalogueProviders.name));
  const models = await db
    .select()
    .from(catalogueModels)
    .where(options.includeRetired ? undefined : isNull(catalogueModels.retiredAt))
    .orderBy(asc(catalogueModels.kind), asc(catalogueModels.model));
  return providers.map((p) => ({ ...p, models: models.filter((m) => m.providerId === p.id) }));
}

/** A provider and its models; retired models only with `includeRetired` (existing selections keep using them). */
export async function findCatalogueEntry(db: AppDb | AppTx, providerId: string, options: { includeRetired?: boolean } = {}): Promise<CatalogueEntry | undefined> {
  const [provider] = await db.select().from(catalogueProviders).where(eq(catalogueProviders.id, providerId));
  if (!provider) return undefined;
  const models = await db
    .select()
    .from(catalogueModels)
    .where(options.includeRetired ? eq(catalogueModels.providerId, providerId) : and(eq(catalogueModels.providerId, providerId), isNull(catalogueModels.retiredAt)))
    .orderBy(asc(catalogueModels.kind), asc(catalogueModels.model));
  return { ...provider, models };
}

export type CatalogueProviderPatch = Partial<Pick<CatalogueProviderRow, 'name' | 'description' | 'region' | 'dataLocation' | 'trainsOnData' | 'policyUrl' | 'defaultBaseUrl'>>;

export async function updateCatalogueProvider(tx: AppTx, providerId: string, patch: CatalogueProviderPatch): Promise<CatalogueProviderRow | undefined> {
  const [row] = await tx
    .update(catalogueProviders)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(eq(catalogueProviders.id, providerId))
    .returning();
  return row;
}

/** Adds a model, or brings a retired one back with the figures given. */
export async function upsertCatalogueModel(
  tx: AppTx,
  model: { providerId: string; model: string; kind: 'chat' | 'embedding'; contextLengthTokens: number; embeddingDimension: number | null },
): Promise<CatalogueModelRow> {
  const [row] = await tx
    .insert(catalogueModels)
    .values(model)
    .onConflictDoUpdate({
      target: [catalogueModels.providerId, catalogueModels.model, catalogueModels.kind],
      set: { contextLengthTokens: model.contextLengthTokens, embeddingDimension: model.embeddingDimension, retiredAt: null },
    })
    .returning();
  return row as CatalogueModelRow;
}

export async function retireCatalogueModel(tx: AppTx, key: { providerId: string; model: string; kind: 'chat' | 'embedding' }): Promise<boolean> {
  const rows = await tx
    .update(catalogueModels)
    .set({ retiredAt: sql`now()` })
    .where(and(eq(catalogueModels.providerId, key.providerId), eq(catalogueModels.model, key.model), eq(catalogueModels.kind, key.kind), isNull(catalogueModels.retiredAt)))
    .returning();
  return rows.length > 0;
}
