import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';

/** A small certificate authority and a server certificate it issued, as an operator would install. */
export async function writeCaIssuedCertificate(): Promise<{ certFile: string; keyFile: string; caCert: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'savoir-test-ca-'));
  const ca = await generate([{ name: 'commonName', value: 'Savoir Test CA' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true }],
  });
  const leaf = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  const certFile = path.join(dir, 'server.crt');
  const keyFile = path.join(dir, 'server.key');
  writeFileSync(certFile, leaf.cert);
  writeFileSync(keyFile, leaf.private);
  return { certFile, keyFile, caCert: ca.cert };
}

export async function writeSelfSignedCertificate(): Promise<{ certFile: string; keyFile: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'savoir-test-self-'));
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' });
  const certFile = path.join(dir, 'self.crt');
  const keyFile = path.join(dir, 'self.key');
  writeFileSync(certFile, pems.cert);
  writeFileSync(keyFile, pems.private);
  return { certFile, keyFile };
}
