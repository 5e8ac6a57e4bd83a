import { readdir, readFile, stat } from 'node:fs/promises';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { simpleParser } from 'mailparser';
import { generate } from 'selfsigned';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogCapture } from '../../../test/support/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/support/db.ts';
import { queryRows } from '../../db/client.ts';
import { emailOutbox, jobs, organizations } from '../../db/schema/index.ts';
import { withTenant, withUnscoped } from '../../db/tenancy.ts';
import { createLogger } from '../../http/logger.ts';
import { JobRunner } from '../../ops/jobs/runner.ts';
import { createBrevoTransport } from './brevo-transport.ts';
import { registerEmailJobs } from './deliver.ts';
import { createFileTransport } from './file-transport.ts';
import { EMAIL_DELIVER_JOB, queueEmail } from './outbox.service.ts';
import { createSmtpTransport } from './smtp-transport.ts';
import type { EmailTransport } from './transport.ts';

const FROM = { address: 'noreply@savoir.test', name: 'Savoir' };
/** A one-time token as an invitation or reset link carries it: it must leave no trace once sent. */
const TOKEN = 'tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0';

interface ReceivedMail {
  to: string[];
  raw: Buffer;
  secure: boolean;
  user: string | undefined;
}

/** A real SMTP server on 127.0.0.1 offering STARTTLS with a self-signed certificate, requiring AUTH. */
async function startSmtpServer(options: { offerStartTls: boolean }) {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' });
  const received: ReceivedMail[] = [];
  const server = new SMTPServer({
    key: pems.private,
    cert: pems.cert,
    logger: false,
    // Hiding STARTTLS is not enough (a client may try it anyway): the command itself is disabled.
    ...(options.offerStartTls ? {} : { disabledCommands: ['STARTTLS'] }),
    authOptional: !options.offerStartTls,
    onAuth(auth, _session, callback) {
      if (auth.username === 'mailer' && auth.password === 'p@ss word') callback(null, { user: 'mailer' });
      else callback(new Error('invalid credentials'));
    },
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('nobody@')) {
        callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks), secure: session.secure, user: session.user as string | undefined });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { received, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

interface BrevoRequest {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A local server speaking Brevo's transactional e-mail API; answers with the queued statuses, then 201. */
async function startBrevoServer(statuses: number[]) {
  const requests: BrevoRequest[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({ method: request.method, url: request.url, headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      const status = statuses.shift() ?? 201;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify(status === 201 ? { messageId: `<brevo-${requests.length}@smtp-relay.mailin.fr>` } : { code: status === 400 ? 'invalid_parameter' : 'internal_error', message: `status ${status}` }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { requests, baseUrl: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('e-mail outbox and delivery', () => {
  let database: TestDatabase;
  let orgId: string;
  const logs = new LogCapture();
  const logger = createLogger({ logLevel: 'info' }, logs);

  beforeAll(async () => {
    database = await createTestDatabase();
    const [org] = await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: 'Acme', slug: 'acme' }).returning());
    orgId = org!.id;
  });
  afterAll(() => database.close());

  function runnerWith(transport: EmailTransport): JobRunner {
    // Retries are due at once, so a test drives them with drain() / runNext() and no waiting.
    const runner = new JobRunner(database.db, { concurrency: 1, leaseMs: 30_000, retryDelayMs: () => 0, logger });
    registerEmailJobs(runner, { db: database.db, transport, from: FROM, logger });
    return runner;
  }

  const queueReset = (to: string, locale: 'fr' | 'en' = 'fr') =>
    withTenant(database.db, { organizationId: orgId }, (tx) =>
      queueEmail(tx, { organizationId: orgId, to, template: 'password-reset', locale, variables: { link: `https://savoir.test/reset/${TOKEN}`, expiresInMinutes: '30' } }),
    );

  const outboxRow = async (id: string) => {
    const [row] = await withUnscoped(database.db, (tx) => tx.select().from(emailOutbox).where(sql`${emailOutbox.id} = ${id}`));
    return row!;
  };
  const jobOf = async (outboxId: string) => {
    const [job] = await withUnscoped(database.db, (tx) => tx.select().from(jobs).where(sql`${jobs.kind} = ${EMAIL_DELIVER_JOB} and ${jobs.idempotencyKey} = ${outboxId}`));
    return job!;
  };
  /** Everything the outbox and the job queue hold, as text, to search for the token. */
  const storedText = async () => {
    const rows = await withUnscoped(database.db, (tx) =>
      queryRows<{ text: string | null }>(tx, sql`select coalesce((select string_agg(o::text, ' ') from email_outbox o), '') || coalesce((select string_agg(j::text, ' ') from jobs j), '') as text`),
    );
    return rows[0]?.text ?? '';
  };

  it('queues in the caller’s transaction: rolled back, neither the e-mail nor its job exists', async () => {
    let queuedId = '';
    await expect(
      withTenant(database.db, { organizationId: orgId }, async (tx) => {
        queuedId = (await queueEmail(tx, { organizationId: orgId, to: 'a@example.test', template: 'new-sign-in', locale: 'en', variables: { at: 't', ip: '203.0.113.1', userAgent: 'd' } })).id;
        throw new Error('the action failed');
      }),
    ).rejects.toThrow('the action failed');
    expect(queuedId).not.toBe('');
    const left = await withUnscoped(database.db, (tx) => tx.select().from(emailOutbox).where(sql`${emailOutbox.id} = ${queuedId}`));
    expect(left).toHaveLength(0);
    const leftJobs = await withUnscoped(database.db, (tx) => tx.select().from(jobs).where(sql`${jobs.idempotencyKey} = ${queuedId}`));
    expect(leftJobs).toHaveLength(0);
  });

  it('refuses a bad address, missing variables and an e-mail for another organisation', async () => {
    await expect(
      withTenant(database.db, { organizationId: orgId }, (tx) =>
        queueEmail(tx, { organizationId: orgId, to: 'not-an-address', template: 'new-sign-in', locale: 'en', variables: { at: 't', ip: 'i', userAgent: 'd' } }),
      ),
    ).rejects.toThrow(/e-mail address/);
    await expect(
      withTenant(database.db, { organizationId: orgId }, (tx) => queueEmail(tx, { organizationId: orgId, to: 'a@example.test', template: 'password-reset', locale: 'en', variables: { link: 'https://x.test/' } })),
    ).rejects.toThrow(/missing expiresInMinutes/);
    const [other] = await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: 'Other', slug: 'other' }).returning());
    await expect(
      withTenant(database.db, { organizationId: orgId }, (tx) =>
        queueEmail(tx, { organizationId: other!.id, to: 'a@example.test', template: 'new-sign-in', locale: 'en', variables: { at: 't', ip: 'i', userAgent: 'd' } }),
      ),
    ).rejects.toThrow();
  });

  it('delivers through a real SMTP server over STARTTLS, in the recipient’s language, then forgets the link', async () => {
    const smtp = await startSmtpServer({ offerStartTls: true });
    const transport = createSmtpTransport({ url: `smtp://mailer:${encodeURIComponent('p@ss word')}@127.0.0.1:${smtp.port}`, tls: { rejectUnauthorized: false } });
    try {
      const { id } = await queueReset('claire@example.test', 'fr');
      expect(await runnerWith(transport).drain()).toBe(1);
      expect(smtp.received).toHaveLength(1);
      const [mail] = smtp.received;
      expect(mail).toMatchObject({ to: ['claire@example.test'], secure: true, user: 'mailer' });
      const parsed = await simpleParser(mail!.raw);
      expect(parsed.subject).toBe('Réinitialisation de votre mot de passe Savoir');
      expect(parsed.from?.value).toEqual([{ name: 'Savoir', address: 'noreply@savoir.test' }]);
      expect(parsed.text).toContain(`https://savoir.test/reset/${TOKEN}`);
      expect(parsed.text).toContain('valable 30 minutes');
      expect(parsed.html).toContain(`href="https://savoir.test/reset/${TOKEN}"`);
      expect(parsed.messageId).toBe(`<${id}@savoir.test>`);
      const row = await outboxRow(id);
      expect(row).toMatchObject({ status: 'sent', attempts: 1, variables: null, lastError: null, providerMessageId: `<${id}@savoir.test>` });
      expect(row.sentAt).toBeInstanceOf(Date);
      expect((await jobOf(id)).status).toBe('succeeded');
      // Once sent, the token is nowhere: not in the outbox, not in the job queue, not in the logs.
      expect(await storedText()).not.toContain(TOKEN);
      expect(logs.text).not.toContain(TOKEN);
      expect(logs.text).toContain(id);
    } finally {
      await transport.close?.();
      await smtp.close();
    }
  });

  it('refuses to send over SMTP without TLS, and retries later', async () => {
    const smtp = await startSmtpServer({ offerStartTls: false });
    const transport = createSmtpTransport({ url: `smtp://127.0.0.1:${smtp.port}`, tls: { rejectUnauthorized: false } });
    try {
      const { id } = await queueReset('no-tls@example.test');
      expect(await runnerWith(transport).runNext()).toBe(true);
      expect(smtp.received).toHaveLength(0);
      const row = await outboxRow(id);
      expect(row).toMatchObject({ status: 'queued', attempts: 1 });
      expect(row.lastError).toMatch(/STARTTLS|TLS/i);
      expect(row.variables).not.toBeNull();
      expect((await jobOf(id)).status).toBe('queued');
      // Leave the queue clean for the next tests.
      await withUnscoped(database.db, (tx) => tx.update(jobs).set({ status: 'cancelled' }).where(sql`${jobs.idempotencyKey} = ${id}`));
    } finally {
      await transport.close?.();
      await smtp.close();
    }
  });

  it('fails for good, without retrying, when the SMTP server refuses the recipient', async () => {
    const smtp = await startSmtpServer({ offerStartTls: true });
    const transport = createSmtpTransport({ url: `smtp://mailer:${encodeURIComponent('p@ss word')}@127.0.0.1:${smtp.port}`, tls: { rejectUnauthorized: false } });
    try {
      const { id } = await queueReset('nobody@example.test');
      expect(await runnerWith(transport).drain()).toBe(1);
      expect(await outboxRow(id)).toMatchObject({ status: 'failed', attempts: 1, variables: null, lastError: expect.stringMatching(/550/) });
      expect((await jobOf(id)).status).toBe('failed');
    } finally {
      await transport.close?.();
      await smtp.close();
    }
  });

  it('delivers through Brevo’s API, retrying after a 500', async () => {
    const brevo = await startBrevoServer([500]);
    const transport = createBrevoTransport({ apiKey: 'xkeysib-test-key', baseUrl: brevo.baseUrl });
    try {
      const { id } = await queueReset('dan@example.test', 'en');
      expect(await runnerWith(transport).drain()).toBe(2);
      expect(brevo.requests).toHaveLength(2);
      const [first, second] = brevo.requests;
      expect(first).toMatchObject({ method: 'POST', url: '/v3/smtp/email' });
      expect(first?.headers['api-key']).toBe('xkeysib-test-key');
      expect(first?.headers['content-type']).toMatch(/^application\/json/);
      expect(second?.body).toEqual(first?.body);
      expect(first?.body).toMatchObject({
        sender: { name: 'Savoir', email: 'noreply@savoir.test' },
        to: [{ email: 'dan@example.test' }],
        subject: 'Reset your Savoir password',
        headers: { idempotencyKey: id },
      });
      expect(first?.body.textContent).toContain(`https://savoir.test/reset/${TOKEN}`);
      expect(first?.body.htmlContent).toContain('<html lang="en">');
      expect(await outboxRow(id)).toMatchObject({ status: 'sent', attempts: 2, variables: null, providerMessageId: '<brevo-2@smtp-relay.mailin.fr>' });
      expect((await jobOf(id)).attempts).toBe(2);
      expect(logs.text).not.toContain('xkeysib-test-key');
    } finally {
      await brevo.close();
    }
  });

  it('fails for good on a Brevo 400, with a single request', async () => {
    const brevo = await startBrevoServer([400]);
    const transport = createBrevoTransport({ apiKey: 'xkeysib-test-key', baseUrl: brevo.baseUrl });
    try {
      const { id } = await queueReset('eve@example.test', 'en');
      expect(await runnerWith(transport).drain()).toBe(1);
      expect(brevo.requests).toHaveLength(1);
      expect(await outboxRow(id)).toMatchObject({ status: 'failed', attempts: 1, variables: null, lastError: expect.stringMatching(/400.*invalid_parameter/) });
      expect(await jobOf(id)).toMatchObject({ status: 'failed', attempts: 1 });
    } finally {
      await brevo.close();
    }
  });

  it('writes a readable .eml file with the file transport (development)', async () => {
    const outboxDir = path.join(mkdtempSync(path.join(tmpdir(), 'savoir-mail-')), 'mail');
    const { id } = await withUnscoped(database.db, (tx) =>
      queueEmail(tx, { organizationId: null, to: 'operator@example.test', template: 'new-sign-in', locale: 'en', variables: { at: '2026-11-26 18:00 UTC', ip: '203.0.113.9', userAgent: 'curl', unused: 'dropped' } }),
    );
    // A variable the template does not use is not even stored.
    expect((await outboxRow(id)).variables).toEqual({ at: '2026-11-26 18:00 UTC', ip: '203.0.113.9', userAgent: 'curl' });
    expect(await runnerWith(createFileTransport(outboxDir)).drain()).toBe(1);
    const files = await readdir(outboxDir);
    expect(files).toEqual([expect.stringMatching(new RegExp(`-${id}\\.eml$`))]);
    const file = path.join(outboxDir, files[0]!);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const parsed = await simpleParser(await readFile(file));
    expect(parsed.subject).toBe('New sign-in to your Savoir account');
    expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : '').toBe('operator@example.test');
    expect(parsed.text).toContain('from the address 203.0.113.9 (curl)');
    expect(await outboxRow(id)).toMatchObject({ status: 'sent', organizationId: null, variables: null });
  });
});
