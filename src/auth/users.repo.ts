import { and, asc, eq, sql } from 'drizzle-orm';
import type { AppTx } from '../db/client.ts';
import { memberships, organizations, users } from '../db/schema/index.ts';

/** Users are platform-level (one identity across organisations): these reads are unscoped by nature. */
export async function findUserByEmailUnscoped(tx: AppTx, email: string) {
  const [row] = await tx.select().from(users).where(sql`lower(${users.email}) = lower(${email.trim()})`);
  return row;
}

export async function findUserByIdUnscoped(tx: AppTx, userId: string) {
  const [row] = await tx.select().from(users).where(eq(users.id, userId));
  return row;
}

export async function setPasswordHashUnscoped(tx: AppTx, userId: string, passwordHash: string): Promise<void> {
  await tx.update(users).set({ passwordHash, updatedAt: sql`now()` }).where(eq(users.id, userId));
}

/** A user's memberships across organisations (their own, for choosing where to act). */
export async function listMembershipsOfUserUnscoped(tx: AppTx, userId: string) {
  return tx
    .select({ organizationId: memberships.organizationId, role: memberships.role, organizationName: organizations.name })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.organizationId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(memberships.createdAt));
}

export async function findMembershipUnscoped(tx: AppTx, userId: string, organizationId: string) {
  const [row] = await tx.select().from(memberships).where(and(eq(memberships.userId, userId), eq(memberships.organizationId, organizationId)));
  return row;
}
