import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** A random bearer token (session cookie, reset link, invitation): 32 bytes, base64url. */
export function newToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * What the database keeps of a token: its SHA-256. Tokens are 256 random bits, so a fast hash is
 * enough (no dictionary to attack); a dump of the table cannot be replayed.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
