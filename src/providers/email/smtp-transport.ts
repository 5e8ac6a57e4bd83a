import nodemailer from 'nodemailer';
import { EmailDeliveryError, messageIdFor, toNodemailerMail, type EmailMessage, type EmailTransport } from './transport.ts';

export interface SmtpTransportOptions {
  /** smtp://user:password@host:587 (STARTTLS, required) or smtps://user:password@host:465 (TLS from the start). */
  url: string;
  /**
   * Extra TLS options. Tests pass `{ rejectUnauthorized: false }` to accept their own
   * self-signed server; production never sets it (the certificate is verified).
   */
  tls?: { rejectUnauthorized?: boolean };
  connectionTimeoutMs?: number;
}

/** SMTP through nodemailer, TLS 1.2 or higher required: a server that does not offer STARTTLS is refused. */
export function createSmtpTransport(options: SmtpTransportOptions): EmailTransport {
  const url = new URL(options.url);
  const secure = url.protocol === 'smtps:';
  const timeoutMs = options.connectionTimeoutMs ?? 30_000;
  const transporter = nodemailer.createTransport({
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    requireTLS: !secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    tls: { minVersion: 'TLSv1.2', servername: url.hostname, ...options.tls },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    name: 'smtp',
    async send(message: EmailMessage) {
      const messageId = messageIdFor(message.outboxId, message.from.address);
      try {
        const info = await transporter.sendMail(toNodemailerMail(message, messageId));
        return { messageId: info.messageId || messageId };
      } catch (error) {
        throw toDeliveryError(error);
      }
    },
    async close() {
      transporter.close();
    },
  };
}

/**
 * A 5xx answer about the envelope or the message (unknown recipient, message refused) is
 * permanent; everything else (4xx, connection, TLS, authentication while an operator fixes the
 * configuration) is worth retrying.
 */
function toDeliveryError(error: unknown): EmailDeliveryError {
  const { code, responseCode, message } = error as { code?: string; responseCode?: number; message?: string };
  const permanent = typeof responseCode === 'number' && responseCode >= 500 && responseCode < 600 && (code === 'EENVELOPE' || code === 'EMESSAGE');
  return new EmailDeliveryError(`SMTP ${code ?? 'error'}${responseCode ? ` ${responseCode}` : ''}: ${message ?? String(error)}`, permanent);
}
