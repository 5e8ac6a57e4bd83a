import type { Config } from '../../config/load.ts';
import { createBrevoTransport } from './brevo-transport.ts';
import { createFileTransport } from './file-transport.ts';
import { createSmtpTransport, type SmtpTransportOptions } from './smtp-transport.ts';
import type { EmailTransport } from './transport.ts';

/** The transport the configuration names (config validation guarantees its settings are present). */
export function createEmailTransport(mail: Config['mail'], options: { smtpTls?: SmtpTransportOptions['tls'] } = {}): EmailTransport {
  switch (mail.transport) {
    case 'file':
      return createFileTransport(mail.outboxDir);
    case 'smtp':
      if (!mail.smtpUrl) throw new Error('SAVOIR_SMTP_URL is required for the smtp transport');
      return createSmtpTransport({ url: mail.smtpUrl, ...(options.smtpTls ? { tls: options.smtpTls } : {}) });
    case 'brevo':
      if (!mail.brevoApiKey) throw new Error('SAVOIR_BREVO_API_KEY is required for the brevo transport');
      return createBrevoTransport({ apiKey: mail.brevoApiKey, baseUrl: mail.brevoBaseUrl });
  }
}
