import { and, asc, eq, ne, sql } from 'drizzle-orm';
import type { AppTx } from '../../db/client.ts';
import { memberships, users } from '../../db/schema/index.ts';
import { APP_ROLE_NAME, PLATFORM_ROLE_NAME } from '../../db/schema/tenancy.ts';
import type { TenantContext } from '../../db/tenancy.ts';

export async function listMembers(tx: AppTx, tenant: TenantContext) {
  return tx
    .select({
      membershipId: memberships.id,
      userId: users.id,
      email: users.email,
      role: memberships.role,
      status: users.status,
      createdAt: memberships.createdAt,
      mfaEnrolled: sql<boolean>`(exists (select 1 from totp_factors t where t.user_id = ${users.id} and t.confirmed_at is not null) or exists (select 1 from webauthn_credentials w where w.user_id = ${users.id}))`,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.organizationId, tenant.organizationId))
    .orderBy(asc(memberships.createdAt));
}

export async function findMember(tx: AppTx, tenant: TenantContext, membershipId: string) {
  const [row] = await tx
    .select({ membershipId: memberships.id, userId: memberships.userId, role: memberships.role, email: users.email, locale: users.locale })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.organizationId, tenant.organizationId), eq(memberships.id, membershipId)))
    .for('update', { of: memberships });
  return row;
}

/**
 * Locks the organisation's owner rows (in id order, so concurrent callers queue rather than
 * deadlock) and returns how many there are. Taken before anything else in a change that could
 * remove an owner: two owners demoting each other at once then run one after the other, and the
 * second sees a single owner left.
 */
export async function lockOwners(tx: AppTx, tenant: TenantContext): Promise<number> {
  const rows = await tx
    .select({ id: memberships.id })
    .from(memberships)
    .where(and(eq(memberships.organizationId, tenant.organizationId), eq(memberships.role, 'owner')))
    .orderBy(asc(memberships.id))
    .for('update');
  return rows.length;
}

export async function setMemberRole(tx: AppTx, tenant: TenantContext, membershipId: string, role: (typeof memberships.$inferInsert)['role']) {
  await tx
    .update(memberships)
    .set({ role, updatedAt: sql`now()` })
    .where(and(eq(memberships.organizationId, tenant.organizationId), eq(memberships.id, membershipId)));
}

export async function deleteMember(tx: AppTx, tenant: TenantContext, membershipId: string) {
  await tx.delete(memberships).where(and(eq(memberships.organizationId, tenant.organizationId), eq(memberships.id, membershipId)));
}

/**
 * What a person is outside this organisation: platform operator or not, and their roles in the
 * other organisations. Row-level security hides other organisations' memberships from the tenant
 * role, so this one read briefly takes the platform role inside the caller's transaction (same
 * snapshot rules, same transaction) and gives the tenant role back before returning.
 */
export async function findStandingElsewhereUnscoped(tx: AppTx, tenant: TenantContext, userId: string): Promise<{ operator: boolean; roles: string[] }> {
  await tx.execute(sql`select set_config('role', ${PLATFORM_ROLE_NAME}, true)`);
  try {
    const [user] = await tx.select({ operator: users.isPlatformOperator }).from(users).where(eq(users.id, userId));
    const others = await tx
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.userId, userId), ne(memberships.organizationId, tenant.organizationId)));
    return { operator: user?.operator ?? false, roles: others.map((o) => o.role) };
  } finally {
    await tx.execute(sql`select set_config('role', ${APP_ROLE_NAME}, true)`);
  }
}

/** A person's role in the organisation as it is now (read inside the change's transaction). */
export async function findRoleOf(tx: AppTx, tenant: TenantContext, userId: string): Promise<string | undefined> {
  const [row] = await tx
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.organizationId, tenant.organizationId), eq(memberships.userId, userId)));
  return row?.role;
}
