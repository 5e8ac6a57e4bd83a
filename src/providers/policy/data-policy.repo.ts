import { eq, sql } from 'drizzle-orm';
import type { AppTx } from '../../db/client.ts';
import { organizationDataPolicies } from '../../db/schema/index.ts';
import type { TenantContext } from '../../db/tenancy.ts';
import { defaultDataPolicy, type DataPolicy } from './data-policy.ts';

/** The organisation's policy; a missing row is the default (both switches on). */
export async function getDataPolicy(tx: AppTx, tenant: TenantContext): Promise<DataPolicy & { updatedAt: Date | null }> {
  const [row] = await tx.select().from(organizationDataPolicies).where(eq(organizationDataPolicies.organizationId, tenant.organizationId));
  return row ? { euOnly: row.euOnly, noTraining: row.noTraining, updatedAt: row.updatedAt } : { ...defaultDataPolicy, updatedAt: null };
}

export async function saveDataPolicy(tx: AppTx, tenant: TenantContext, policy: DataPolicy): Promise<DataPolicy & { updatedAt: Date }> {
  const [row] = await tx
    .insert(organizationDataPolicies)
    .values({ organizationId: tenant.organizationId, ...policy })
    .onConflictDoUpdate({ target: organizationDataPolicies.organizationId, set: { ...policy, updatedAt: sql`now()` } })
    .returning();
  const saved = row as typeof organizationDataPolicies.$inferSelect;
  return { euOnly: saved.euOnly, noTraining: saved.noTraining, updatedAt: saved.updatedAt };
}
