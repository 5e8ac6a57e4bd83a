import { eq, sql } from 'drizzle-orm';
import { queryRows, type AppTx } from '../../db/client.ts';
import { loginThrottle } from '../../db/schema/index.ts';
import { AppError } from '../../http/errors.ts';

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
/** Password-reset requests: each one e-mails a link, so a few per account, then growing waits. */
export const RESET_ACCOUNT_POLICY: ThrottlePolicy = { freeFailures: 3, firstLockMs: 60_000, maxLockMs: 60 * 60_000 };
export const RESET_IP_POLICY: ThrottlePolicy = { freeFailures: 20, firstLockMs: 60_000, maxLockMs: 60 * 60_000 };
/** Failures older than this are forgotten: the counter starts again. */
const FORGET_AFTER_MS = 24 * 60 * 60_000;

export const accountKey = (email: string) => `account:${email.trim().toLowerCase()}`;
export const ipKey = (ip: string | null) => `ip:${ip ?? 'unknown'}`;
export const mfaKey = (userId: string) => `mfa:${userId}`;
export const resetAccountKey = (email: string) => `reset:${accountKey(email)}`;
export const resetIpKey = (ip: string | null) => `reset:${ipKey(ip)}`;

/** The answer to a throttled attempt, with how long to wait. */
export function throttledError(lockedUntil: Date, message: string): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil((lockedUntil.getTime() - Date.now()) / 1000));
  return new AppError('rate_limited', message, { headers: { 'retry-after': String(retryAfterSeconds) } });
}

export function lockDurationMs(failures: number, policy: ThrottlePolicy): number {
  if (failures <= policy.freeFailures) return 0;
  return Math.min(policy.firstLockMs * 2 ** (failures - policy.freeFailures - 1), policy.maxLockMs);
}

interface ThrottleRow {
  failures: number;
  locked_until: Date | string | null;
}

/**
 * Reserves one attempt on each key before the (slow) check, counting it as a failure at once:
 * one atomic upsert per key takes the row lock, so concurrent attempts queue behind it instead of
 * all reading "not locked" and then verifying (argon2 takes ~50 ms). Returns the latest lock end
 * when a key is locked: nothing is counted then (earlier keys are released) and the caller must
 * not verify. Otherwise every key is counted, and a lock earned by this count applies to the next
 * attempts. On success the caller clears or releases the keys. Keys are taken in sorted order so
 * two requests sharing keys never wait on each other crosswise.
 */
export async function reserveAttempt(tx: AppTx, entries: { key: string; policy: ThrottlePolicy }[], now = new Date()): Promise<Date | undefined> {
  const forgetBefore = new Date(now.getTime() - FORGET_AFTER_MS).toISOString();
  const at = now.toISOString();
  const reserved: { key: string; policy: ThrottlePolicy }[] = [];
  for (const entry of [...entries].sort((a, b) => a.key.localeCompare(b.key))) {
    // locked_until is not changed by the upsert, so the row returned tells the lock as it was before.
    const [row] = await queryRows<ThrottleRow>(
      tx,
      sql`insert into login_throttle (key, failures, last_failure_at) values (${entry.key}, 1, ${at}::timestamptz)
          on conflict (key) do update set
            failures = case when login_throttle.locked_until > ${at}::timestamptz then login_throttle.failures
                            when login_throttle.last_failure_at < ${forgetBefore}::timestamptz then 1
                            else login_throttle.failures + 1 end,
            last_failure_at = case when login_throttle.locked_until > ${at}::timestamptz then login_throttle.last_failure_at else ${at}::timestamptz end
          returning failures, locked_until`,
    );
    const lockedUntil = row!.locked_until === null ? null : new Date(row!.locked_until);
    if (lockedUntil && lockedUntil > now) {
      for (const done of reserved) await releaseAttempt(tx, done.key, done.policy);
      return lockedUntil;
    }
    reserved.push(entry);
    const lockMs = lockDurationMs(row!.failures, entry.policy);
    if (lockMs > 0) await tx.update(loginThrottle).set({ lockedUntil: new Date(now.getTime() + lockMs) }).where(eq(loginThrottle.key, entry.key));
  }
  return undefined;
}

/** Gives back a reserved attempt that turned out not to be a failure (a lock it alone earned goes too). */
export async function releaseAttempt(tx: AppTx, key: string, policy: ThrottlePolicy): Promise<void> {
  await tx
    .update(loginThrottle)
    .set({
      failures: sql`greatest(${loginThrottle.failures} - 1, 0)`,
      lockedUntil: sql`case when ${loginThrottle.failures} - 1 <= ${policy.freeFailures} then null else ${loginThrottle.lockedUntil} end`,
    })
    .where(eq(loginThrottle.key, key));
}

export async function clearFailures(tx: AppTx, key: string): Promise<void> {
  await tx.delete(loginThrottle).where(eq(loginThrottle.key, key));
}
