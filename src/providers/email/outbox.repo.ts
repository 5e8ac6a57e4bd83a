import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import type { AppTx } from '../../db/client.ts';
import { emailOutbox, type OutboxEmail } from '../../db/schema/index.ts';

export type NewOutboxEmail = typeof emailOutbox.$inferInsert;

const ownerCondition = (organizationId: string | null): SQL =>
  organizationId === null ? isNull(emailOutbox.organizationId) : eq(emailOutbox.organizationId, organizationId);

export async function insertOutboxEmail(tx: AppTx, email: NewOutboxEmail): Promise<OutboxEmail> {
  const [created] = await tx.insert(emailOutbox).values(email).returning();
  if (!created) throw new Error('outbox insert returned nothing');
  return created;
}

/** An outbox e-mail of an organisation (null: a platform e-mail), locked for its delivery attempt. */
export async function findOutboxEmailForDelivery(tx: AppTx, organizationId: string | null, id: string): Promise<OutboxEmail | undefined> {
  const [email] = await tx
    .select()
    .from(emailOutbox)
    .where(and(ownerCondition(organizationId), eq(emailOutbox.id, id)))
    .for('update');
  return email;
}

/** Sent: the variables (which may hold a one-time link) are wiped. */
export async function markOutboxEmailSent(tx: AppTx, organizationId: string | null, id: string, providerMessageId: string): Promise<void> {
  await tx
    .update(emailOutbox)
    .set({
      status: 'sent',
      variables: null,
      attempts: sql`${emailOutbox.attempts} + 1`,
      lastError: null,
      sentAt: sql`now()`,
      providerMessageId,
      updatedAt: sql`now()`,
    })
    .where(and(ownerCondition(organizationId), eq(emailOutbox.id, id)));
}

/** A failed attempt; when it was the last one, the e-mail is failed for good and its variables wiped. */
export async function recordOutboxFailure(tx: AppTx, organizationId: string | null, id: string, error: string, final: boolean): Promise<void> {
  await tx
    .update(emailOutbox)
    .set({
      attempts: sql`${emailOutbox.attempts} + 1`,
      lastError: error.slice(0, 1000),
      updatedAt: sql`now()`,
      ...(final ? { status: 'failed' as const, variables: null } : {}),
    })
    .where(and(ownerCondition(organizationId), eq(emailOutbox.id, id)));
}
