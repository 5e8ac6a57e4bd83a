import { randomBytes } from 'node:crypto';
import { hashToken } from '../tokens.ts';

/** `sk_<12 hex prefix>_<43 base64url secret>`: the prefix finds the row and is shown in lists. */
const KEY_PATTERN = /^sk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function newApiKey(): { key: string; prefix: string; secretHash: string } {
  const prefix = randomBytes(6).toString('hex');
  const key = `sk_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, secretHash: hashToken(key) };
}

export function parseApiKey(key: string): { prefix: string } | undefined {
  const match = KEY_PATTERN.exec(key);
  return match ? { prefix: match[1]! } : undefined;
}
