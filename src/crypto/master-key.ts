import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/load.ts';
import { DEVELOPMENT_KEY_MARKER } from '../config/guardrails.ts';

export const MASTER_KEY_BYTES = 32;

/**
 * Loads the master key (32 bytes, base64). Outside production, when none is configured, a
 * development key is generated once in the data folder; it carries a marker production refuses.
 */
export function loadMasterKey(source: Config['masterKey']): Buffer {
  const text = source.source === 'env' ? source.value : readOrCreate(source);
  const encoded = text.startsWith(DEVELOPMENT_KEY_MARKER) ? text.slice(DEVELOPMENT_KEY_MARKER.length) : text;
  const key = Buffer.from(encoded, 'base64');
  // Buffer.from skips characters that are not base64: insist the text is exactly the key's encoding.
  if (key.length !== MASTER_KEY_BYTES || key.toString('base64') !== encoded) {
    throw new Error(`the master key must be ${MASTER_KEY_BYTES} bytes in base64 (got ${key.length} bytes); generate one with \`savoir keys generate\``);
  }
  return key;
}

export function generateMasterKeyText(development = false): string {
  return `${development ? DEVELOPMENT_KEY_MARKER : ''}${randomBytes(MASTER_KEY_BYTES).toString('base64')}`;
}

function readOrCreate(source: { source: 'file' | 'development'; file: string }): string {
  if (source.source === 'development' && !existsSync(source.file)) {
    mkdirSync(path.dirname(source.file), { recursive: true, mode: 0o700 });
    writeFileSync(source.file, `${generateMasterKeyText(true)}\n`, { mode: 0o600, flag: 'wx' });
  }
  try {
    return readFileSync(source.file, 'utf8').trim();
  } catch (error) {
    throw new Error(`cannot read the master key file ${source.file}: ${(error as Error).message}`);
  }
}

/** The configured master key first, then the previous one during a rotation (unwrap only). */
export function loadMasterKeys(config: Pick<Config, 'masterKey' | 'previousMasterKeyFile'>): Buffer[] {
  const current = loadMasterKey(config.masterKey);
  return config.previousMasterKeyFile ? [current, loadMasterKey({ source: 'file', file: config.previousMasterKeyFile })] : [current];
}
