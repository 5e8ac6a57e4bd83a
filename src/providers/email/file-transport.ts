import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { messageIdFor, toNodemailerMail, type EmailMessage, type EmailTransport } from './transport.ts';

/**
 * Development only (production refuses SAVOIR_MAIL_TRANSPORT=file): each e-mail becomes a .eml
 * file in the outbox folder, readable by any mail client. The folder is private to the user
 * (mode 0700): a development invitation link is as good as a password.
 */
export function createFileTransport(outboxDir: string): EmailTransport {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    name: 'file',
    async send(message: EmailMessage) {
      const messageId = messageIdFor(message.outboxId, message.from.address);
      const info = await composer.sendMail(toNodemailerMail(message, messageId));
      await mkdir(outboxDir, { recursive: true, mode: 0o700 });
      const stamp = new Date().toISOString().replaceAll(':', '-');
      await writeFile(path.join(outboxDir, `${stamp}-${message.outboxId}.eml`), info.message as Buffer, { mode: 0o600 });
      return { messageId };
    },
  };
}
