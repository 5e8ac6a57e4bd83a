/** One e-mail ready to leave: rendered, addressed. */
export interface EmailMessage {
  /** The outbox id: used as the Message-ID's local part so a retried send can be recognised. */
  outboxId: string;
  from: { address: string; name: string };
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface EmailTransport {
  readonly name: 'file' | 'smtp' | 'brevo';
  send(message: EmailMessage, options?: { signal?: AbortSignal }): Promise<{ messageId: string }>;
  close?(): Promise<void>;
}

/**
 * A failed delivery. `permanent` means retrying cannot help (refused recipient, bad request,
 * bad credentials): the outbox marks the e-mail failed at once instead of retrying.
 */
export class EmailDeliveryError extends Error {
  override name = 'EmailDeliveryError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export function messageIdFor(outboxId: string, fromAddress: string): string {
  const domain = fromAddress.split('@')[1] ?? 'savoir.invalid';
  return `<${outboxId}@${domain}>`;
}

/** The message as nodemailer composes it, the same for every transport built on nodemailer. */
export function toNodemailerMail(message: EmailMessage, messageId: string) {
  return {
    messageId,
    from: { name: message.from.name, address: message.from.address },
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
  };
}
