import { and, asc, eq, sql } from 'drizzle-orm';
import type { AppTx } from '../db/client.ts';
import { providerConfigs, tokenUsage, type ProviderConfigRow } from '../db/schema/index.ts';
import type { TenantContext } from '../db/tenancy.ts';

export type NewProviderConfig = Omit<typeof providerConfigs.$inferInsert, 'organizationId' | 'createdAt' | 'updatedAt'> & { id: string };
export type ProviderConfigPatch = Partial<Omit<NewProviderConfig, 'id' | 'providerId'>>;

export async function insertProviderConfig(tx: AppTx, tenant: TenantContext, values: NewProviderConfig): Promise<ProviderConfigRow> {
  const [row] = await tx.insert(providerConfigs).values({ ...values, organizationId: tenant.organizationId }).returning();
  return row as ProviderConfigRow;
}

export function listProviderConfigs(tx: AppTx, tenant: TenantContext): Promise<ProviderConfigRow[]> {
  return tx.select().from(providerConfigs).where(eq(providerConfigs.organizationId, tenant.organizationId)).orderBy(asc(providerConfigs.createdAt));
}

export async function findProviderConfig(tx: AppTx, tenant: TenantContext, id: string): Promise<ProviderConfigRow | undefined> {
  const [row] = await tx
    .select()
    .from(providerConfigs)
    .where(and(eq(providerConfigs.organizationId, tenant.organizationId), eq(providerConfigs.id, id)));
  return row;
}

export async function updateProviderConfig(tx: AppTx, tenant: TenantContext, id: string, patch: ProviderConfigPatch): Promise<ProviderConfigRow | undefined> {
  const [row] = await tx
    .update(providerConfigs)
    .set({ ...patch, updatedAt: sql`now()` })
    .where(and(eq(providerConfigs.organizationId, tenant.organizationId), eq(providerConfigs.id, id)))
    .returning();
  return row;
}

export async function deleteProviderConfig(tx: AppTx, tenant: TenantContext, id: string): Promise<boolean> {
  const rows = await tx
    .delete(providerConfigs)
    .where(and(eq(providerConfigs.organizationId, tenant.organizationId), eq(providerConfigs.id, id)))
    .returning({ id: providerConfigs.id });
  return rows.length > 0;
}

export interface TokenUsageRecord {
  assistantId: string | null;
  providerConfigId: string | null;
  providerId: string;
  model: string;
  kind: 'chat' | 'embedding';
  promptTokens: number;
  completionTokens: number;
  estimated: boolean;
}

export async function recordTokenUsage(tx: AppTx, tenant: TenantContext, record: TokenUsageRecord): Promise<void> {
  await tx.insert(tokenUsage).values({ ...record, organizationId: tenant.organizationId });
}

export interface TokenUsageTotal {
  assistantId: string | null;
  providerId: string;
  model: string;
  kind: 'chat' | 'embedding';
  promptTokens: number;
  completionTokens: number;
  calls: number;
}

/** Totals per assistant and model since a date. */
export async function tokenUsageTotals(tx: AppTx, tenant: TenantContext, since: Date): Promise<TokenUsageTotal[]> {
  return tx
    .select({
      assistantId: tokenUsage.assistantId,
      providerId: tokenUsage.providerId,
      model: tokenUsage.model,
      kind: tokenUsage.kind,
      promptTokens: sql<number>`sum(${tokenUsage.promptTokens})::float8`,
      completionTokens: sql<number>`sum(${tokenUsage.completionTokens})::float8`,
      calls: sql<number>`count(*)::int`,
    })
    .from(tokenUsage)
    .where(and(eq(tokenUsage.organizationId, tenant.organizationId), sql`${tokenUsage.createdAt} >= ${since.toISOString()}::timestamptz`))
    .groupBy(tokenUsage.assistantId, tokenUsage.providerId, tokenUsage.model, tokenUsage.kind)
    .orderBy(tokenUsage.providerId, tokenUsage.model);
}
