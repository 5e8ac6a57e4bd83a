import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Minimal sealing of small secrets (MFA secrets) with AES-256-GCM under the master key.
 * Format: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url). The key id (first 8 bytes of the
 * key's SHA-256, never the key) tells which key sealed it, so a key ring can take over later.
 */
const VERSION = 'v1';
const IV_BYTES = 12;

export function masterKeyId(masterKey: Buffer): string {
  return createHash('sha256').update(masterKey).digest().subarray(0, 8).toString('base64url');
}

export function sealSecret(plaintext: string, masterKey: Buffer): string {
  const keyId = masterKeyId(masterKey);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  // The header is authenticated: a sealed value cannot be relabelled with another key id.
  cipher.setAAD(Buffer.from(`${VERSION}.${keyId}`));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), ciphertext.toString('base64url')].join('.');
}

export function openSecret(sealed: string, masterKey: Buffer): string {
  const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
  if (version !== VERSION || !keyId || iv === undefined || tag === undefined || ciphertext === undefined) throw new Error('not a sealed secret');
  if (keyId !== masterKeyId(masterKey)) throw new Error(`sealed under another key (${keyId})`);
  const decipher = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(`${VERSION}.${keyId}`));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}
