import { secretVariables, urlVariablesWithCredentials } from './schema.ts';

/** A hint that tells which secret is set without revealing it: length and last two characters. */
export function maskSecret(value: string): string {
  return value.length <= 8 ? '********' : `********${value.slice(-2)} (${value.length} chars)`;
}

export function maskUrlCredentials(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '********';
    return url.toString();
  } catch {
    return '********';
  }
}

/** The effective configuration as `savoir doctor` prints it: secrets masked. */
export function maskedVariables(raw: Record<string, unknown>): Record<string, string> {
  const shown: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const text = String(value);
    shown[name] = secretVariables.has(name) ? maskSecret(text) : urlVariablesWithCredentials.has(name) ? maskUrlCredentials(text) : text;
  }
  return shown;
}
