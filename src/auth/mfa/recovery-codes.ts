import { randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { AppTx } from '../../db/client.ts';
import { recoveryCodes } from '../../db/schema/index.ts';
import { hashToken } from '../tokens.ts';

export const RECOVERY_CODE_COUNT = 10;
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'; // no look-alikes (0/o, 1/l/i)

function newRecoveryCode(): string {
  const bytes = randomBytes(12);
  const chars = [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8, 12)}`;
}

function normalise(code: string): string {
  return code.trim().toLowerCase().replaceAll(/[\s-]/g, '');
}

/** Replaces a user's recovery codes with ten new ones, stored hashed; the clear codes are shown once. */
export async function issueRecoveryCodes(tx: AppTx, userId: string): Promise<string[]> {
  await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  await tx.insert(recoveryCodes).values(codes.map((code) => ({ userId, codeHash: hashToken(normalise(code)) })));
  return codes;
}

/** Uses up one recovery code; false when it is unknown or already used. */
export async function consumeRecoveryCode(tx: AppTx, userId: string, code: string): Promise<boolean> {
  const used = await tx
    .update(recoveryCodes)
    .set({ usedAt: sql`now()` })
    .where(and(eq(recoveryCodes.userId, userId), eq(recoveryCodes.codeHash, hashToken(normalise(code))), isNull(recoveryCodes.usedAt)))
    .returning({ id: recoveryCodes.id });
  return used.length > 0;
}

export async function hasRecoveryCodes(tx: AppTx, userId: string): Promise<boolean> {
  const rows = await tx.select({ id: recoveryCodes.id }).from(recoveryCodes).where(and(eq(recoveryCodes.userId, userId), isNull(recoveryCodes.usedAt))).limit(1);
  return rows.length > 0;
}
