import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './load.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.variable}: ${p.message}`);
    throw error;
  }
  throw new Error('expected a configuration error');
}

describe('configuration', () => {
  it('starts on embedded defaults with nothing set', () => {
    const config = loadConfig({});
    expect(config.env).toBe('development');
    expect(config.database.kind).toBe('pglite');
    expect(config.http.port).toBe(8443);
    expect(config.http.redirectPort).toBe(8080);
    expect(config.http.publicUrl).toBe('https://localhost:8443');
    expect(config.tls.mode).toBe('self-signed');
    expect(config.masterKey.source).toBe('development');
    expect(config.mail.transport).toBe('file');
    expect(config.demoData).toBe(true);
  });

  it('reads PostgreSQL from DATABASE_URL and ignores unrelated variables', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@db:5432/savoir', HOME: '/root', PORT: 'x' });
    expect(config.database).toEqual({ kind: 'postgres', url: 'postgres://u:p@db:5432/savoir' });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ SAVOIR_PORT: '' }).http.port).toBe(8443);
  });

  it.each([
    [{ SAVOIR_PORT: 'abc' }, 'SAVOIR_PORT: expected a port number (got "abc")'],
    [{ SAVOIR_PORT: '70000' }, 'SAVOIR_PORT: expected a port between 1 and 65535 (got "70000")'],
    [{ SAVOIR_ENV: 'prod' }, 'SAVOIR_ENV: expected one of development, preprod, production (got "prod")'],
    [{ DATABASE_URL: 'mysql://localhost/x' }, 'DATABASE_URL: expected a postgres:// or postgresql:// URL'],
    [{ SAVOIR_TLS_CERT_FILE: '/etc/cert.pem' }, 'SAVOIR_TLS_KEY_FILE: SAVOIR_TLS_CERT_FILE and SAVOIR_TLS_KEY_FILE go together: set both or neither'],
    [{ SAVOIR_TLS_TERMINATED_BY_PROXY: 'maybe' }, 'SAVOIR_TLS_TERMINATED_BY_PROXY: expected true or false (got "maybe")'],
    [{ SAVOIR_MAIL_TRANSPORT: 'smtp' }, 'SAVOIR_SMTP_URL: required when SAVOIR_MAIL_TRANSPORT is smtp'],
    [{ SAVOIR_MAIL_TRANSPORT: 'pigeon' }, 'SAVOIR_MAIL_TRANSPORT: expected file, smtp or brevo (got "pigeon")'],
    [{ SAVOIR_PUBLIC_URL: 'http://savoir.example' }, 'SAVOIR_PUBLIC_URL: expected an https:// URL (got "http://savoir.example")'],
    [{ SAVOIR_MASTER_KEY: 'a', SAVOIR_MASTER_KEY_FILE: '/k' }, 'SAVOIR_MASTER_KEY_FILE: set SAVOIR_MASTER_KEY or SAVOIR_MASTER_KEY_FILE, not both (got "/k")'],
  ])('names the variable at fault: %j', (env, message) => {
    expect(problemsOf(env)).toContain(message);
  });

  it('reports every problem at once and never echoes a secret value', () => {
    const problems = problemsOf({ SAVOIR_PORT: 'x', SAVOIR_ENV: 'nope', DATABASE_URL: 'mysql://user:hunter2@h/db' });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).not.toContain('hunter2');
  });

  it('turns off the redirect when a proxy terminates TLS', () => {
    const config = loadConfig({ SAVOIR_TLS_TERMINATED_BY_PROXY: 'true' });
    expect(config.tls).toEqual({ mode: 'proxy', trustedProxies: ['127.0.0.1', '::1'] });
    expect(config.http.redirectPort).toBeNull();
    expect(loadConfig({ SAVOIR_TLS_TERMINATED_BY_PROXY: 'true', SAVOIR_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7' }).tls).toEqual({
      mode: 'proxy',
      trustedProxies: ['10.0.0.0/8', '192.168.1.7'],
    });
  });

  it('lets provider endpoints reach only public addresses unless the operator names private ranges', () => {
    expect(loadConfig({}).providers).toEqual({ privateEndpointCidrs: [] });
    expect(loadConfig({ SAVOIR_PROVIDER_PRIVATE_ENDPOINTS: '10.0.0.0/8, fd00::/8,192.168.1.7' }).providers.privateEndpointCidrs).toEqual(['10.0.0.0/8', 'fd00::/8', '192.168.1.7']);
    expect(problemsOf({ SAVOIR_PROVIDER_PRIVATE_ENDPOINTS: '10.0.0.0/33' }).join('\n')).toMatch(/SAVOIR_PROVIDER_PRIVATE_ENDPOINTS: expected IP addresses or CIDR ranges/);
    expect(problemsOf({ SAVOIR_PROVIDER_PRIVATE_ENDPOINTS: 'vllm.internal' })).not.toEqual([]);
  });
});

describe('configuration errors and secrets', () => {
  it('never echoes a URL that may carry a password', () => {
    const problems = problemsOf({ SAVOIR_MAIL_TRANSPORT: 'smtp', SAVOIR_SMTP_URL: 'submission://mailer:S3cretPass@relay.example' });
    expect(problems).toContain('SAVOIR_SMTP_URL: expected an smtp:// or smtps:// URL');
    expect(problems.join('\n')).not.toContain('S3cretPass');
  });

  it('refuses a job lease too short for its heartbeat', () => {
    expect(problemsOf({ SAVOIR_JOBS_LEASE_MS: '100' })).toContain('SAVOIR_JOBS_LEASE_MS: expected at least 5000 (ms) (got "100")');
  });
});
