import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { verify as bcryptVerify } from '@node-rs/bcrypt';

/**
 * argon2id at OWASP's first recommended setting (19 MiB, 2 passes, 1 lane). Measured by
 * bench/login.bench.ts; raise memoryCost if the servers can afford it.
 */
export const ARGON2_PARAMETERS = { algorithm: 2 /* Algorithm.Argon2id (a const enum) */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export async function hashPassword(password: string): Promise<string> {
  return argon2Hash(password, ARGON2_PARAMETERS);
}

export interface PasswordCheck {
  ok: boolean;
  /** True when the stored hash is not argon2id at today's parameters: rehash it now that we know the password. */
  needsRehash: boolean;
}

/** Verifies argon2id hashes, and bcrypt hashes imported from another system ($2a$, $2b$, $2y$). */
export async function verifyPassword(storedHash: string, password: string): Promise<PasswordCheck> {
  if (/^\$2[aby]\$/.test(storedHash)) {
    const ok = await bcryptVerify(password, storedHash).catch(() => false);
    return { ok, needsRehash: ok };
  }
  if (storedHash.startsWith('$argon2')) {
    const ok = await argon2Verify(storedHash, password).catch(() => false);
    return { ok, needsRehash: ok && !storedHash.startsWith(currentPrefix) };
  }
  return { ok: false, needsRehash: false };
}

const currentPrefix = `$argon2id$v=19$m=${ARGON2_PARAMETERS.memoryCost},t=${ARGON2_PARAMETERS.timeCost},p=${ARGON2_PARAMETERS.parallelism}$`;

let dummyHash: Promise<string> | undefined;
/**
 * Spends the same time as a real verification when the account does not exist, so the answer's
 * timing does not tell whether an e-mail is registered.
 */
export async function verifyAgainstDummy(password: string): Promise<void> {
  dummyHash ??= hashPassword('savoir-dummy-password-for-timing');
  await argon2Verify(await dummyHash, password).catch(() => false);
}
