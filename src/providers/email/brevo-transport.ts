import type { EmailMessage, EmailTransport } from './transport.ts';
import { EmailDeliveryError } from './transport.ts';

export interface BrevoTransportOptions {
  apiKey: string;
  /** https://api.brevo.com in production; a local server in tests. */
  baseUrl: string;
  timeoutMs?: number;
}

/**
 * Brevo's transactional e-mail API (POST /v3/smtp/email). 4xx answers are permanent (bad
 * request, bad key, refused sender) except 429; 429, 5xx and network errors are retried. The
 * outbox id is the idempotency key, so a retry after a lost answer does not send twice.
 */
export function createBrevoTransport(options: BrevoTransportOptions): EmailTransport {
  const endpoint = new URL('/v3/smtp/email', options.baseUrl).toString();
  const timeoutMs = options.timeoutMs ?? 15_000;
  return {
    name: 'brevo',
    async send(message: EmailMessage, sendOptions: { signal?: AbortSignal } = {}) {
      const timeout = AbortSignal.timeout(timeoutMs);
      let response: Response;
      try {
        response = await fetch(endpoint, {
          method: 'POST',
          headers: { 'api-key': options.apiKey, 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify({
            sender: { name: message.from.name, email: message.from.address },
            to: [{ email: message.to }],
            subject: message.subject,
            htmlContent: message.html,
            textContent: message.text,
            headers: { idempotencyKey: message.outboxId },
          }),
          signal: sendOptions.signal ? AbortSignal.any([sendOptions.signal, timeout]) : timeout,
        });
      } catch (error) {
        throw new EmailDeliveryError(`Brevo unreachable: ${(error as Error).message}`, false);
      }
      const body = (await response.json().catch(() => ({}))) as { messageId?: unknown; code?: unknown; message?: unknown };
      if (response.ok) {
        if (typeof body.messageId !== 'string') throw new EmailDeliveryError(`Brevo answered ${response.status} without a messageId`, false);
        return { messageId: body.messageId };
      }
      const permanent = response.status >= 400 && response.status < 500 && response.status !== 429;
      const reason = [body.code, body.message].filter((part) => typeof part === 'string').join(': ');
      throw new EmailDeliveryError(`Brevo answered ${response.status}${reason ? ` (${reason.slice(0, 300)})` : ''}`, permanent);
    },
  };
}
