import { randomUUID } from 'node:crypto';
import type { AppTx } from '../db/client.ts';
import { auditEventHash, GENESIS_HASH, normalizeAuditDetails, type HashedAuditFields } from './chain.ts';
import { findChainHead, insertAuditEvent, lockChain } from './audit.repo.ts';

export interface AuditEventInput {
  /** null = platform event (operators, bootstrap). */
  organizationId: string | null;
  actorType: 'user' | 'api_key' | 'operator' | 'system';
  actorId: string | null;
  /** Dotted, past tense: 'auth.login.succeeded', 'member.role_changed'. */
  action: string;
  targetType?: string;
  targetId?: string;
  /** Default success. */
  outcome?: 'success' | 'failure';
  ip?: string | null;
  requestId?: string | null;
  /** Context for a reader; never secrets (passwords, tokens, keys). */
  details?: Record<string, unknown>;
}

/**
 * Appends an event to its chain (the organisation's, or the platform's) in the caller's
 * transaction, so the event exists if and only if the change it records was committed.
 * Writers of one chain take turns (advisory lock held until commit); other chains are not blocked.
 * An organisation's event is written inside `withTenant` for that organisation (RLS checks it);
 * a platform event inside `withUnscoped`.
 */
export async function recordAuditEvent(tx: AppTx, event: AuditEventInput): Promise<{ id: string; hash: string }> {
  await lockChain(tx, event.organizationId);
  const head = await findChainHead(tx, event.organizationId);
  const prevHash = head?.hash ?? GENESIS_HASH;
  const fields: HashedAuditFields = {
    id: randomUUID(),
    organizationId: event.organizationId,
    sequence: (head?.sequence ?? 0) + 1,
    // Computed here and stored as is (millisecond precision), so verification recomputes the same text.
    occurredAt: new Date().toISOString(),
    actorType: event.actorType,
    actorId: event.actorId,
    action: event.action,
    targetType: event.targetType ?? null,
    targetId: event.targetId ?? null,
    outcome: event.outcome ?? 'success',
    ip: event.ip ?? null,
    requestId: event.requestId ?? null,
    details: normalizeAuditDetails(event.details),
  };
  const hash = auditEventHash(prevHash, fields);
  await insertAuditEvent(tx, { ...fields, occurredAt: new Date(fields.occurredAt), prevHash, hash });
  return { id: fields.id, hash };
}
