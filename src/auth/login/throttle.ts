import { eq, inArray, sql } from 'drizzle-orm';
import type { AppTx } from '../../db/client.ts';
import { loginThrottle } from '../../db/schema/index.ts';

/**
 * Brute-force throttling, shared by every process through the database. Counted per account (the
 * e-mail as typed, whether or not it exists, so a lock says nothing about existence) and per IP.
 * Past a few free failures each one locks the key for twice as long as the one before, up to a cap.
 */
export interface ThrottlePolicy {
  freeFailures: number;
  firstLockMs: number;
  maxLockMs: number;
}

export const ACCOUNT_POLICY: ThrottlePolicy = { freeFailures: 3, firstLockMs: 5_000, maxLockMs: 15 * 60_000 };
export const IP_POLICY: ThrottlePolicy = { freeFailures: 20, firstLockMs: 5_000, maxLockMs: 15 * 60_000 };
/** Failures older than this are forgotten: the counter starts again. */
const FORGET_AFTER_MS = 24 * 60 * 60_000;

export const accountKey = (email: string) => `account:${email.trim().toLowerCase()}`;
export const ipKey = (ip: string | null) => `ip:${ip ?? 'unknown'}`;
export const mfaKey = (userId: string) => `mfa:${userId}`;

export function lockDurationMs(failures: number, policy: ThrottlePolicy): number {
  if (failures <= policy.freeFailures) return 0;
  return Math.min(policy.firstLockMs * 2 ** (failures - policy.freeFailures - 1), policy.maxLockMs);
}

/** The latest moment until which any of the keys is locked, or undefined when none is. */
export async function lockedUntil(tx: AppTx, keys: string[], now = new Date()): Promise<Date | undefined> {
  const rows = await tx.select().from(loginThrottle).where(inArray(loginThrottle.key, keys));
  const locks = rows.map((r) => r.lockedUntil).filter((d): d is Date => d !== null && d > now);
  return locks.length ? new Date(Math.max(...locks.map((d) => d.getTime()))) : undefined;
}

export async function recordFailure(tx: AppTx, key: string, policy: ThrottlePolicy, now = new Date()): Promise<void> {
  const forgetBefore = new Date(now.getTime() - FORGET_AFTER_MS);
  const [row] = await tx
    .insert(loginThrottle)
    .values({ key, failures: 1, lastFailureAt: now })
    .onConflictDoUpdate({
      target: loginThrottle.key,
      set: {
        failures: sql`case when ${loginThrottle.lastFailureAt} < ${forgetBefore} then 1 else ${loginThrottle.failures} + 1 end`,
        lastFailureAt: now,
      },
    })
    .returning();
  const lockMs = lockDurationMs(row!.failures, policy);
  if (lockMs > 0) await tx.update(loginThrottle).set({ lockedUntil: new Date(now.getTime() + lockMs) }).where(eq(loginThrottle.key, key));
}

export async function clearFailures(tx: AppTx, key: string): Promise<void> {
  await tx.delete(loginThrottle).where(eq(loginThrottle.key, key));
}
