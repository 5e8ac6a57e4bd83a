import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/http/logger.ts';
import { startSavoir, type RunningSavoir } from '../src/server.ts';
import { testConfig, LogCapture } from './support/app.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';


function tlsHandshake(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => {
      const protocol = socket.getProtocol() ?? 'unknown';
      socket.end();
      resolve(protocol);
    });
    socket.on('error', reject);
  });
}

describe('HTTPS server', () => {
  let savoir: RunningSavoir;
  let port: number;
  let database: TestDatabase;
  let config: ReturnType<typeof testConfig>;

  beforeAll(async () => {
    // On PostgreSQL the server gets a database of its own; on PGlite it starts from an empty data
    // folder, as `npm start` does on a fresh machine.
    database = await createTestDatabase();
    config = testConfig({ SAVOIR_JOBS_ENABLED: 'false', ...(database.url ? { DATABASE_URL: database.url } : {}) });
    // Port 0 asks the system for free ports; the config schema asks for 1..65535, so set them here.
    config.http.port = 0;
    config.http.redirectPort = 0;
    savoir = await startSavoir(config, createLogger({ logLevel: 'silent' }, new LogCapture()));
    port = Number(new URL(savoir.url).port);
    config.http.publicUrl = `https://localhost:${port}`;
  });
  afterAll(async () => {
    await savoir?.close();
    await database.close();
  });

  it('accepts TLS 1.2 and TLS 1.3', async () => {
    await expect(tlsHandshake(port, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).resolves.toBe('TLSv1.2');
    await expect(tlsHandshake(port, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' })).resolves.toBe('TLSv1.3');
  });

  it('refuses TLS 1.1 and 1.0: the server answers with a protocol version alert', async () => {
    for (const version of ['TLSv1.1', 'TLSv1'] as const) {
      // Lower the client's own floor (and OpenSSL's security level) so that the refusal is the server's.
      const attempt = tlsHandshake(port, { minVersion: 'TLSv1', maxVersion: version, ciphers: 'DEFAULT:@SECLEVEL=0' });
      await expect(attempt).rejects.toMatchObject({ code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
    }
  });

  it('serves a self-signed certificate for localhost, kept in the data folder', async () => {
    const certificate = await new Promise<X509Certificate>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' }, () => {
        const raw = socket.getPeerX509Certificate();
        socket.end();
        if (raw) resolve(raw);
        else reject(new Error('no certificate'));
      });
      socket.on('error', reject);
    });
    expect(certificate.subjectAltName).toContain('DNS:localhost');
    expect(savoir.tls?.selfSigned).toBe(true);
    expect(new X509Certificate(savoir.tls!.cert).fingerprint256).toBe(certificate.fingerprint256);
    expect(config.tls.mode === 'self-signed' && readFileSync(config.tls.certFile, 'utf8')).toBe(savoir.tls?.cert);
  });

  it('sends HSTS over HTTPS', async () => {
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, path: '/healthz', rejectUnauthorized: false }, resolve).on('error', reject);
    });
    response.resume();
    expect(response.statusCode).toBe(200);
    expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
  });

  it('plain HTTP only redirects to HTTPS, whatever Host the client sends', async () => {
    const redirectPort = Number(new URL(savoir.redirectUrl!).port);
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: redirectPort, path: '/readyz?full=1', headers: { host: 'evil.example' } }, resolve).on('error', reject);
    });
    response.resume();
    expect(response.statusCode).toBe(308);
    expect(response.headers.location).toMatch(/^https:\/\/localhost:\d+\/readyz\?full=1$/);
  });

  it('reuses the certificate on the next start', async () => {
    const before = savoir.tls?.cert;
    await savoir.close();
    savoir = await startSavoir(config, createLogger({ logLevel: 'silent' }, new LogCapture()));
    expect(savoir.tls?.cert).toBe(before);
    port = Number(new URL(savoir.url).port);
  });
});
