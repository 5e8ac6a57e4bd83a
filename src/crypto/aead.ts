import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** AES-256-GCM with a 96-bit random IV and a 128-bit tag, as NIST SP 800-38D recommends. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const AES_KEY_BYTES = 32;

export interface AeadBox {
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/** Encrypts under `key`; `aad` is authenticated, not stored: the same aad must be given to open. */
export function aeadSeal(key: Buffer, plaintext: Buffer, aad: string): AeadBox {
  assertKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, tag: cipher.getAuthTag(), ciphertext };
}

/** Decrypts, or throws when the key, the aad or any byte differs (GCM authentication). */
export function aeadOpen(key: Buffer, box: AeadBox, aad: string): Buffer {
  assertKey(key);
  if (box.iv.length !== IV_BYTES || box.tag.length !== TAG_BYTES) throw new Error('malformed sealed value');
  const decipher = createDecipheriv('aes-256-gcm', key, box.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(box.tag);
  return Buffer.concat([decipher.update(box.ciphertext), decipher.final()]);
}

/**
 * A stable, public name for a master key: an HMAC of a fixed label under the key, so it names
 * the key without revealing anything about it.
 */
export function masterKeyFingerprint(masterKey: Buffer): string {
  assertKey(masterKey);
  return createHmac('sha256', masterKey).update('savoir master key fingerprint v1').digest('hex').slice(0, 16);
}

function assertKey(key: Buffer): void {
  if (key.length !== AES_KEY_BYTES) throw new Error(`an AES-256 key is ${AES_KEY_BYTES} bytes (got ${key.length})`);
}
