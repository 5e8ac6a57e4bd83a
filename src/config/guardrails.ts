import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { Config } from './load.ts';

/** Marks a master key that Savoir generated for development; production refuses any key that carries it. */
export const DEVELOPMENT_KEY_MARKER = 'savoir-development-key:';

export interface Refusal {
  rule: string;
  message: string;
}

/**
 * Separated environments: production must not run on development defaults.
 * Returns every refusal at once so an operator fixes them in one go.
 */
export function productionRefusals(config: Config): Refusal[] {
  if (config.env !== 'production') return [];
  const refusals: Refusal[] = [];
  refusals.push(...tlsRefusals(config));
  if (config.masterKey.source === 'development') {
    refusals.push({
      rule: 'master-key',
      message: 'production needs a master key: set SAVOIR_MASTER_KEY_FILE (or SAVOIR_MASTER_KEY); the generated development key is refused',
    });
  } else if (readMasterKeyText(config.masterKey).startsWith(DEVELOPMENT_KEY_MARKER)) {
    refusals.push({ rule: 'master-key', message: 'the master key given is a development key; generate a production key with `savoir keys generate`' });
  } else if (config.masterKey.source === 'file' && isReadableByOthers(config.masterKey.file)) {
    refusals.push({ rule: 'master-key', message: `the master key file ${config.masterKey.file} is readable by other users: chmod 600 it` });
  }
  if (!config.raw.SAVOIR_PUBLIC_URL) {
    refusals.push({ rule: 'public-url', message: 'production needs SAVOIR_PUBLIC_URL: redirects and e-mailed links would otherwise point at localhost' });
  }
  if (config.demoData) {
    refusals.push({ rule: 'demo-data', message: 'SAVOIR_DEMO_DATA is true: demo data is refused in production' });
  }
  if (config.mail.transport === 'file') {
    refusals.push({ rule: 'mail-transport', message: 'SAVOIR_MAIL_TRANSPORT is file (development only): use smtp or brevo in production' });
  }
  if (config.mail.transport === 'brevo' && !config.mail.brevoBaseUrl.startsWith('https://')) {
    refusals.push({ rule: 'mail-transport', message: 'SAVOIR_BREVO_BASE_URL must be an https:// URL in production' });
  }
  return refusals;
}

function tlsRefusals(config: Config): Refusal[] {
  if (config.tls.mode === 'proxy') return [];
  if (config.tls.mode === 'self-signed') {
    return [
      {
        rule: 'tls-certificate',
        message:
          'production needs a certificate: set SAVOIR_TLS_CERT_FILE and SAVOIR_TLS_KEY_FILE, or SAVOIR_TLS_TERMINATED_BY_PROXY=true when a trusted proxy terminates TLS',
      },
    ];
  }
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(readFileSync(config.tls.certFile));
    readFileSync(config.tls.keyFile);
  } catch (error) {
    return [{ rule: 'tls-certificate', message: `cannot read the TLS certificate or key: ${(error as Error).message}` }];
  }
  const refusals: Refusal[] = [];
  if (isSelfSigned(certificate)) {
    refusals.push({ rule: 'tls-certificate', message: `the certificate ${config.tls.certFile} is self-signed: production needs one issued by a certificate authority` });
  }
  if (new Date(certificate.validTo).getTime() < Date.now()) {
    refusals.push({ rule: 'tls-certificate', message: `the certificate ${config.tls.certFile} expired on ${certificate.validTo}` });
  }
  return refusals;
}

export function isSelfSigned(certificate: X509Certificate): boolean {
  // Issuer equal to subject and a signature made by its own key: nobody vouches for it.
  return certificate.issuer === certificate.subject && certificate.verify(certificate.publicKey);
}

function isReadableByOthers(file: string): boolean {
  try {
    // Group or world permissions on the file that protects every secret at rest.
    return (statSync(file).mode & 0o077) !== 0;
  } catch {
    return false; // a missing file is reported by the key ring when it loads
  }
}

function readMasterKeyText(key: Exclude<Config['masterKey'], { source: 'development' }>): string {
  if (key.source === 'env') return key.value;
  try {
    return readFileSync(key.file, 'utf8').trim();
  } catch {
    // A missing file is reported by the key ring when it loads; here only the development marker matters.
    return '';
  }
}

export class GuardrailError extends Error {
  constructor(readonly refusals: Refusal[]) {
    super(`Savoir refuses to start in production:\n${refusals.map((r) => `  - ${r.message}`).join('\n')}`);
    this.name = 'GuardrailError';
  }
}

export function assertProductionReady(config: Config): void {
  const refusals = productionRefusals(config);
  if (refusals.length > 0) throw new GuardrailError(refusals);
}
