import type { Logger } from 'pino';
import type { AppDb, AppTx } from '../../db/client.ts';
import { withTenant, withUnscoped } from '../../db/tenancy.ts';
import { PermanentJobError, type JobContext, type JobRunner } from '../../ops/jobs/runner.ts';
import { findOutboxEmailForDelivery, markOutboxEmailSent, recordOutboxFailure } from './outbox.repo.ts';
import { EMAIL_DELIVER_JOB } from './outbox.service.ts';
import { EmailTemplateError, renderEmail } from './render.ts';
import { emailLocales, emailTemplates, type EmailLocale, type EmailTemplate } from './templates.ts';
import { EmailDeliveryError, type EmailTransport } from './transport.ts';

export interface EmailJobDependencies {
  db: AppDb;
  transport: EmailTransport;
  from: { address: string; name: string };
  logger?: Pick<Logger, 'info' | 'warn'>;
}

export function registerEmailJobs(runner: JobRunner, deps: EmailJobDependencies): void {
  runner.register(EMAIL_DELIVER_JOB, (context) => deliverOutboxEmail(deps, context));
}

/** An organisation's e-mail is read and updated inside its tenant; a platform e-mail unscoped. */
function inOwnerScope<T>(db: AppDb, organizationId: string | null, fn: (tx: AppTx) => Promise<T>): Promise<T> {
  return organizationId ? withTenant(db, { organizationId }, fn) : withUnscoped(db, fn);
}

/**
 * Delivers one outbox e-mail. Idempotent: an e-mail already sent or failed is left alone. No
 * transaction is held while the transport talks to the network; the job's lease keeps other
 * workers off. Logs carry the outbox id and template only, never the variables or the body.
 */
export async function deliverOutboxEmail(deps: EmailJobDependencies, { job, signal }: JobContext): Promise<unknown> {
  const outboxId = (job.payload as { outboxId?: unknown }).outboxId;
  if (typeof outboxId !== 'string') throw new PermanentJobError('email.deliver job without an outboxId');
  const organizationId = job.organizationId;
  const email = await inOwnerScope(deps.db, organizationId, (tx) => findOutboxEmailForDelivery(tx, organizationId, outboxId));
  if (!email) throw new PermanentJobError(`outbox e-mail ${outboxId} not found`);
  if (email.status !== 'queued') return { outboxId, status: email.status };

  const fail = async (message: string, final: boolean) => {
    await inOwnerScope(deps.db, organizationId, (tx) => recordOutboxFailure(tx, organizationId, outboxId, message, final));
    deps.logger?.warn({ outboxId, template: email.template, attempt: job.attempts, final }, 'e-mail delivery failed');
  };

  let rendered;
  try {
    if (!email.variables) throw new EmailTemplateError('the e-mail has no variables left');
    rendered = renderEmail(asTemplate(email.template), asLocale(email.locale), email.variables);
  } catch (error) {
    await fail((error as Error).message, true);
    throw new PermanentJobError((error as Error).message);
  }

  let messageId: string;
  try {
    ({ messageId } = await deps.transport.send(
      { outboxId, from: deps.from, to: email.toAddress, subject: rendered.subject, text: rendered.text, html: rendered.html },
      { signal },
    ));
  } catch (error) {
    const delivery = error instanceof EmailDeliveryError ? error : new EmailDeliveryError((error as Error).message, false);
    const final = delivery.permanent || job.attempts >= job.maxAttempts;
    await fail(delivery.message, final);
    throw delivery.permanent ? new PermanentJobError(delivery.message) : delivery;
  }
  await inOwnerScope(deps.db, organizationId, (tx) => markOutboxEmailSent(tx, organizationId, outboxId, messageId));
  deps.logger?.info({ outboxId, template: email.template, transport: deps.transport.name }, 'e-mail sent');
  return { outboxId, status: 'sent' };
}

function asTemplate(value: string): EmailTemplate {
  if (!(emailTemplates as readonly string[]).includes(value)) throw new EmailTemplateError(`unknown template ${value}`);
  return value as EmailTemplate;
}

function asLocale(value: string): EmailLocale {
  if (!(emailLocales as readonly string[]).includes(value)) throw new EmailTemplateError(`unknown locale ${value}`);
  return value as EmailLocale;
}
