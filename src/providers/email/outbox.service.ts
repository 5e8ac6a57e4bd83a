import { z } from 'zod';
import type { AppTx } from '../../db/client.ts';
import { enqueueJob } from '../../ops/jobs/jobs.repo.ts';
import { insertOutboxEmail } from './outbox.repo.ts';
import { pickTemplateVariables } from './render.ts';
import { emailLocales, emailTemplates, type EmailLocale, type EmailTemplate } from './templates.ts';

export type { EmailTemplate } from './templates.ts';

/** The job that delivers one outbox e-mail. */
export const EMAIL_DELIVER_JOB = 'email.deliver';
/** With the runner's backoff, about a day of retries before an e-mail is given up. */
export const EMAIL_MAX_ATTEMPTS = 10;

const queuedEmail = z.object({
  organizationId: z.uuid().nullable(),
  to: z.email({ error: 'expected an e-mail address' }).max(320),
  template: z.enum(emailTemplates),
  locale: z.enum(emailLocales),
  variables: z.record(z.string(), z.string().max(2000)),
});

/**
 * Queues an e-mail in the caller's transaction, with the durable job that delivers it: the
 * e-mail leaves if and only if the action that sends it is committed. Refuses an unknown
 * template, a bad address or missing variables at once, rather than at delivery (variables the
 * template does not use are dropped). See templates.ts for each template's variables.
 */
export async function queueEmail(
  tx: AppTx,
  email: { organizationId: string | null; to: string; template: EmailTemplate; locale: 'fr' | 'en'; variables: Record<string, string> },
): Promise<{ id: string }> {
  const valid = queuedEmail.parse(email);
  const variables = pickTemplateVariables(valid.template, valid.variables);
  const row = await insertOutboxEmail(tx, {
    organizationId: valid.organizationId,
    toAddress: valid.to,
    template: valid.template,
    locale: valid.locale satisfies EmailLocale,
    variables,
  });
  await enqueueJob(tx, valid.organizationId, {
    kind: EMAIL_DELIVER_JOB,
    payload: { outboxId: row.id },
    idempotencyKey: row.id,
    maxAttempts: EMAIL_MAX_ATTEMPTS,
  });
  return { id: row.id };
}
