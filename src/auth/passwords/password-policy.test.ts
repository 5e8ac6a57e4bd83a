import { describe, expect, it } from 'vitest';
import { ACCOUNT_POLICY, lockDurationMs } from '../login/throttle.ts';
import { hashPassword, verifyPassword } from './password-hash.ts';
import { passwordProblem } from './password-policy.ts';

describe('password policy', () => {
  it('asks for length, refuses common passwords and the e-mail, and imposes no composition rule', () => {
    expect(passwordProblem('short')).toMatch(/at least 12/);
    expect(passwordProblem('qwerty123456')).toMatch(/most common/);
    expect(passwordProblem('1q2w3e4r5t6y')).toMatch(/most common/);
    expect(passwordProblem('Alice.Martin@Example.org', 'alice.martin@example.org')).toMatch(/e-mail/);
    expect(passwordProblem('all lower case words here')).toBeUndefined();
    expect(passwordProblem('x'.repeat(257))).toMatch(/at most/);
  });
});

describe('password hashes', () => {
  it('argon2id at m=19456, t=2, p=1; a wrong password fails; an unknown format fails', async () => {
    const stored = await hashPassword('a reasonable passphrase');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await verifyPassword(stored, 'a reasonable passphrase')).toEqual({ ok: true, needsRehash: false });
    expect((await verifyPassword(stored, 'another passphrase')).ok).toBe(false);
    expect((await verifyPassword('plain-text', 'plain-text')).ok).toBe(false);
  });

  it('asks to rehash argon2 hashes made with weaker parameters', async () => {
    const { hash } = await import('@node-rs/argon2');
    const weak = await hash('a reasonable passphrase', { memoryCost: 4096, timeCost: 1, parallelism: 1 });
    expect(await verifyPassword(weak, 'a reasonable passphrase')).toEqual({ ok: true, needsRehash: true });
  });
});

describe('login throttle', () => {
  it('locks for longer after each failure past the free ones, up to a cap', () => {
    const locks = [1, 2, 3, 4, 5, 6, 30].map((n) => lockDurationMs(n, ACCOUNT_POLICY));
    expect(locks.slice(0, 3)).toEqual([0, 0, 0]);
    expect(locks[3]).toBe(5_000);
    expect(locks[4]).toBe(10_000);
    expect(locks[5]).toBe(20_000);
    expect(locks[6]).toBe(ACCOUNT_POLICY.maxLockMs);
  });
});
