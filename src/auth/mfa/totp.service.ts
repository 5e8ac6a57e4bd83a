import { and, eq, isNull, sql } from 'drizzle-orm';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { KeyRing } from '../../crypto/key-ring.ts';
import type { AppTx } from '../../db/client.ts';
import { totpFactors } from '../../db/schema/index.ts';

const PERIOD_SECONDS = 30;
/** One step either side tolerates clock drift between server and phone. */
const WINDOW_STEPS = 1;

/** The AAD binds a sealed secret to its row: copied to another user, it does not open. */
export const totpSecretAad = (userId: string) => `totp_factor:${userId}:secret`;

/** What TOTP needs of the key ring (sealed under the data keys, so master-key rotation re-wraps, never breaks). */
export type TotpSealer = Pick<KeyRing, 'seal' | 'open'>;

function totpFor(secretBase32: string, label: string): TOTP {
  return new TOTP({ issuer: 'Savoir', label, algorithm: 'SHA1', digits: 6, period: PERIOD_SECONDS, secret: Secret.fromBase32(secretBase32) });
}

/**
 * Starts (or restarts) TOTP enrolment: a new secret, sealed at rest by the key ring (call
 * `keyRing.ready()` before the transaction), pending until a first code
 * proves the phone has it. Returns the otpauth URI and its QR code, shown once.
 */
export async function beginTotpEnrolment(tx: AppTx, userId: string, email: string, keyRing: TotpSealer): Promise<{ otpauthUri: string; qrCodeDataUrl: string } | 'already-enrolled'> {
  const [existing] = await tx.select().from(totpFactors).where(eq(totpFactors.userId, userId));
  if (existing?.confirmedAt) return 'already-enrolled';
  const secret = new Secret({ size: 20 }).base32;
  const secretSealed = await keyRing.seal(secret, totpSecretAad(userId));
  await tx
    .insert(totpFactors)
    .values({ userId, secretSealed })
    .onConflictDoUpdate({ target: totpFactors.userId, set: { secretSealed, lastUsedStep: null, createdAt: sql`now()` } });
  const otpauthUri = totpFor(secret, email).toString();
  return { otpauthUri, qrCodeDataUrl: await QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: 'M' }) };
}

/**
 * Checks a code against the user's TOTP secret. A code is accepted once: the step it belongs to
 * is remembered and that step or any earlier one is refused afterwards (replay).
 * `pending` selects the enrolment being confirmed instead of the confirmed factor.
 */
export async function checkTotpCode(tx: AppTx, userId: string, code: string, keyRing: TotpSealer, options: { pending: boolean }, now = Date.now()): Promise<boolean> {
  const [factor] = await tx
    .select()
    .from(totpFactors)
    .where(and(eq(totpFactors.userId, userId), options.pending ? isNull(totpFactors.confirmedAt) : sql`${totpFactors.confirmedAt} is not null`))
    .for('update');
  if (!factor || !/^\d{6}$/.test(code)) return false;
  const totp = totpFor(await keyRing.open(factor.secretSealed, totpSecretAad(userId), tx), 'check');
  const delta = totp.validate({ token: code, timestamp: now, window: WINDOW_STEPS });
  if (delta === null) return false;
  const step = Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
  if (factor.lastUsedStep !== null && step <= factor.lastUsedStep) return false;
  await tx
    .update(totpFactors)
    .set({ lastUsedStep: step, ...(options.pending ? { confirmedAt: new Date(now) } : {}) })
    .where(eq(totpFactors.userId, userId));
  return true;
}

export async function removeTotp(tx: AppTx, userId: string): Promise<boolean> {
  const rows = await tx.delete(totpFactors).where(eq(totpFactors.userId, userId)).returning({ userId: totpFactors.userId });
  return rows.length > 0;
}
