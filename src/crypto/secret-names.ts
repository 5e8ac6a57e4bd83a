/**
 * Names under which a value is a secret, wherever it appears (log lines, audit details). Compared
 * case- and separator-insensitively, so `Password`, `api_key` and `smtpPassword` are all caught.
 */
const exactNames = new Set(['authorization', 'cookie', 'setcookie', 'credentials', 'totpcode', 'recoverycode', 'passphrase', 'otp']);
const secretSuffixes = ['password', 'secret', 'token', 'apikey', 'privatekey', 'masterkey', 'credentials'];

export function isSecretName(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[_-]/g, '');
  return exactNames.has(normalized) || secretSuffixes.some((suffix) => normalized.endsWith(suffix));
}

const MAX_DEPTH = 8;

/** A copy of `value` in which every value under a secret name reads "[redacted]". */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => redactSecrets(item, depth + 1));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) copy[key] = isSecretName(key) ? '[redacted]' : redactSecrets(inner, depth + 1);
  return copy;
}
