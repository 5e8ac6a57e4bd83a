import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';
import type { Config } from '../config/load.ts';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** True when Savoir generated the certificate itself (development). */
  selfSigned: boolean;
  validTo: Date;
}

/** Regenerate a self-signed certificate this long before it expires. */
const RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

/**
 * The certificate and key the server presents: the operator's files, or a self-signed pair made
 * on first run in the data folder and kept there (renewed near expiry). None when a proxy terminates TLS.
 */
export async function loadTlsMaterial(tls: Config['tls']): Promise<TlsMaterial | undefined> {
  if (tls.mode === 'proxy') return undefined;
  if (tls.mode === 'files') return readPair(tls.certFile, tls.keyFile, false);
  if (existsSync(tls.certFile) && existsSync(tls.keyFile)) {
    const existing = readPair(tls.certFile, tls.keyFile, true);
    if (existing.validTo.getTime() - Date.now() > RENEW_BEFORE_MS) return existing;
  }
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  mkdirSync(path.dirname(tls.certFile), { recursive: true, mode: 0o700 });
  writeFileSync(tls.keyFile, pems.private, { mode: 0o600 });
  writeFileSync(tls.certFile, pems.cert, { mode: 0o644 });
  return readPair(tls.certFile, tls.keyFile, true);
}

function readPair(certFile: string, keyFile: string, selfSigned: boolean): TlsMaterial {
  const cert = readFileSync(certFile, 'utf8');
  const key = readFileSync(keyFile, 'utf8');
  return { cert, key, selfSigned, validTo: new Date(new X509Certificate(cert).validTo) };
}
