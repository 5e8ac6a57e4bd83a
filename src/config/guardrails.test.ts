import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeCaIssuedCertificate, writeSelfSignedCertificate } from '../../test/support/certificates.ts';
import { generateMasterKeyText } from '../crypto/master-key.ts';
import { productionRefusals } from './guardrails.ts';
import { loadConfig } from './load.ts';

describe('production guardrails', () => {
  let good: Record<string, string>;
  let selfSigned: { certFile: string; keyFile: string };

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'savoir-guardrails-'));
    const keyFile = path.join(dir, 'master.key');
    writeFileSync(keyFile, generateMasterKeyText(), { mode: 0o600 });
    const issued = await writeCaIssuedCertificate();
    selfSigned = await writeSelfSignedCertificate();
    good = {
      SAVOIR_ENV: 'production',
      SAVOIR_PUBLIC_URL: 'https://savoir.example.eu',
      SAVOIR_DATA_DIR: dir,
      SAVOIR_TLS_CERT_FILE: issued.certFile,
      SAVOIR_TLS_KEY_FILE: issued.keyFile,
      SAVOIR_MASTER_KEY_FILE: keyFile,
      SAVOIR_MAIL_TRANSPORT: 'smtp',
      SAVOIR_SMTP_URL: 'smtps://mail.example.eu:465',
    };
  });

  const refusalsWith = (changes: Record<string, string | undefined>) => {
    const env = { ...good, ...changes };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    return productionRefusals(loadConfig(env as Record<string, string>)).map((r) => r.message);
  };

  it('accepts a production configuration without development defaults', () => {
    expect(refusalsWith({})).toEqual([]);
  });

  it('accepts TLS terminated by a trusted proxy when declared', () => {
    expect(refusalsWith({ SAVOIR_TLS_CERT_FILE: undefined, SAVOIR_TLS_KEY_FILE: undefined, SAVOIR_TLS_TERMINATED_BY_PROXY: 'true' })).toEqual([]);
  });

  it('refuses a missing certificate', () => {
    expect(refusalsWith({ SAVOIR_TLS_CERT_FILE: undefined, SAVOIR_TLS_KEY_FILE: undefined })).toEqual([
      'production needs a certificate: set SAVOIR_TLS_CERT_FILE and SAVOIR_TLS_KEY_FILE, or SAVOIR_TLS_TERMINATED_BY_PROXY=true when a trusted proxy terminates TLS',
    ]);
  });

  it('refuses a self-signed certificate', () => {
    expect(refusalsWith({ SAVOIR_TLS_CERT_FILE: selfSigned.certFile, SAVOIR_TLS_KEY_FILE: selfSigned.keyFile })).toEqual([
      `the certificate ${selfSigned.certFile} is self-signed: production needs one issued by a certificate authority`,
    ]);
  });

  it('refuses an unreadable certificate', () => {
    const [message] = refusalsWith({ SAVOIR_TLS_CERT_FILE: '/nonexistent/cert.pem', SAVOIR_TLS_KEY_FILE: '/nonexistent/key.pem' });
    expect(message).toMatch(/^cannot read the TLS certificate or key: ENOENT/);
  });

  it('refuses a missing master key', () => {
    expect(refusalsWith({ SAVOIR_MASTER_KEY_FILE: undefined })).toEqual([
      'production needs a master key: set SAVOIR_MASTER_KEY_FILE (or SAVOIR_MASTER_KEY); the generated development key is refused',
    ]);
  });

  it('refuses a development master key given explicitly', () => {
    expect(refusalsWith({ SAVOIR_MASTER_KEY_FILE: undefined, SAVOIR_MASTER_KEY: generateMasterKeyText(true) })).toEqual([
      'the master key given is a development key; generate a production key with `savoir keys generate`',
    ]);
  });

  it('refuses a missing public URL', () => {
    expect(refusalsWith({ SAVOIR_PUBLIC_URL: undefined })).toEqual([
      'production needs SAVOIR_PUBLIC_URL: redirects and e-mailed links would otherwise point at localhost',
    ]);
  });

  it('refuses a master key file other users can read', () => {
    const looseKeyFile = `${good.SAVOIR_MASTER_KEY_FILE}.loose`;
    writeFileSync(looseKeyFile, generateMasterKeyText(), { mode: 0o644 });
    chmodSync(looseKeyFile, 0o644);
    expect(refusalsWith({ SAVOIR_MASTER_KEY_FILE: looseKeyFile })).toEqual([`the master key file ${looseKeyFile} is readable by other users: chmod 600 it`]);
  });

  it('refuses demo data', () => {
    expect(refusalsWith({ SAVOIR_DEMO_DATA: 'true' })).toEqual(['SAVOIR_DEMO_DATA is true: demo data is refused in production']);
  });

  it('refuses the file mail transport', () => {
    expect(refusalsWith({ SAVOIR_MAIL_TRANSPORT: 'file', SAVOIR_SMTP_URL: undefined })).toEqual([
      'SAVOIR_MAIL_TRANSPORT is file (development only): use smtp or brevo in production',
    ]);
  });

  it('refuses a Brevo API address that is not HTTPS', () => {
    const brevo = { SAVOIR_MAIL_TRANSPORT: 'brevo', SAVOIR_SMTP_URL: undefined, SAVOIR_BREVO_API_KEY: 'xkeysib-prod' };
    expect(refusalsWith(brevo)).toEqual([]);
    expect(refusalsWith({ ...brevo, SAVOIR_BREVO_BASE_URL: 'http://brevo.internal' })).toEqual(['SAVOIR_BREVO_BASE_URL must be an https:// URL in production']);
  });

  it('lists every refusal at once on bare development defaults', () => {
    const rules = productionRefusals(loadConfig({ SAVOIR_ENV: 'production', SAVOIR_DATA_DIR: good.SAVOIR_DATA_DIR! })).map((r) => r.rule);
    expect(rules).toEqual(['tls-certificate', 'master-key', 'public-url', 'mail-transport']);
  });

  it('applies to production only', () => {
    expect(productionRefusals(loadConfig({ SAVOIR_ENV: 'preprod', SAVOIR_DATA_DIR: good.SAVOIR_DATA_DIR! }))).toEqual([]);
  });
});
