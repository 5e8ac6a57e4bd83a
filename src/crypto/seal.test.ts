import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { masterKeyId, openSecret, sealSecret } from './seal.ts';

describe('sealSecret / openSecret (AES-256-GCM under the master key)', () => {
  const key = randomBytes(32);

  it('round-trips, with a fresh IV each time and the key id (never the key) in clear', () => {
    const a = sealSecret('JBSWY3DPEHPK3PXP', key);
    const b = sealSecret('JBSWY3DPEHPK3PXP', key);
    expect(a).not.toBe(b);
    expect(a).not.toContain('JBSWY3DPEHPK3PXP');
    expect(a.split('.')[1]).toBe(masterKeyId(key));
    expect(a).not.toContain(key.toString('base64url'));
    expect(openSecret(a, key)).toBe('JBSWY3DPEHPK3PXP');
  });

  it('refuses another key, a changed ciphertext and a relabelled key id', () => {
    const sealed = sealSecret('secret', key);
    expect(() => openSecret(sealed, randomBytes(32))).toThrow(/another key/);
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[4]!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    expect(() => openSecret([...parts.slice(0, 4), flipped.toString('base64url')].join('.'), key)).toThrow();
    expect(() => openSecret(['v1', 'AAAAAAAAAAA', ...parts.slice(2)].join('.'), key)).toThrow();
    expect(() => openSecret('garbage', key)).toThrow(/not a sealed secret/);
  });
});
