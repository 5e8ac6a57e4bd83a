import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import type { AppTx } from '../../db/client.ts';
import { queryRows } from '../../db/client.ts';
import { apiKeys } from '../../db/schema/index.ts';
import type { TenantContext } from '../../db/tenancy.ts';

export interface ApiKeySubjectRow {
  id: string;
  organization_id: string;
  secret_hash: string;
  permissions: string[];
  assistant_ids: string[] | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  creator_status: 'active' | 'deactivated';
  creator_role: string | null;
}

/** Platform-level read (the key says which organisation it belongs to), with its creator's current standing. */
export async function findApiKeySubjectByPrefixUnscoped(tx: AppTx, prefix: string): Promise<ApiKeySubjectRow | undefined> {
  const rows = await queryRows<ApiKeySubjectRow>(
    tx,
    sql`select k.id, k.organization_id, k.secret_hash, k.permissions, k.assistant_ids, k.expires_at, k.revoked_at,
          u.status as creator_status, m.role::text as creator_role
        from api_keys k
        join users u on u.id = k.created_by
        left join memberships m on m.user_id = k.created_by and m.organization_id = k.organization_id
        where k.prefix = ${prefix}`,
  );
  const row = rows[0];
  if (row && row.expires_at !== null && !(row.expires_at instanceof Date)) row.expires_at = new Date(row.expires_at as unknown as string);
  return row;
}

export async function markApiKeyUsedUnscoped(tx: AppTx, id: string): Promise<void> {
  await tx.update(apiKeys).set({ lastUsedAt: sql`now()` }).where(eq(apiKeys.id, id));
}

export async function insertApiKey(tx: AppTx, tenant: TenantContext, values: Omit<typeof apiKeys.$inferInsert, 'organizationId'>) {
  const [row] = await tx.insert(apiKeys).values({ ...values, organizationId: tenant.organizationId }).returning();
  return row!;
}

export async function listApiKeys(tx: AppTx, tenant: TenantContext) {
  return tx.select().from(apiKeys).where(eq(apiKeys.organizationId, tenant.organizationId)).orderBy(desc(apiKeys.createdAt));
}

export async function revokeApiKey(tx: AppTx, tenant: TenantContext, id: string) {
  const [row] = await tx
    .update(apiKeys)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiKeys.organizationId, tenant.organizationId), eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning();
  return row;
}

export async function findApiKey(tx: AppTx, tenant: TenantContext, id: string) {
  const [row] = await tx.select().from(apiKeys).where(and(eq(apiKeys.organizationId, tenant.organizationId), eq(apiKeys.id, id)));
  return row;
}

/** Keys made by a person who leaves: removal revokes theirs in one organisation, deactivation everywhere. */
export async function revokeApiKeysCreatedBy(tx: AppTx, userId: string, organizationId?: string): Promise<number> {
  const rows = await tx
    .update(apiKeys)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiKeys.createdBy, userId), isNull(apiKeys.revokedAt), organizationId ? eq(apiKeys.organizationId, organizationId) : undefined))
    .returning({ id: apiKeys.id });
  return rows.length;
}
