import type { AppTx } from '../db/client.ts';

/** The audit event the providers room writes; the same shape as the audit room's `recordAuditEvent`. */
export interface ProviderAuditEvent {
  organizationId: string | null;
  actorType: 'user' | 'api_key' | 'operator' | 'system';
  actorId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  outcome?: 'success' | 'failure';
  details?: Record<string, unknown>;
}

/**
 * Writes an audit event in the caller's transaction (the event commits or rolls back with the
 * change it records). The audit room's `recordAuditEvent` is plugged in here after the merge.
 */
export type AuditWriter = (tx: AppTx, event: ProviderAuditEvent) => Promise<unknown>;

/**
 * Placeholder until the hash-chained audit log is merged: it refuses nothing but says loudly that
 * events are not yet recorded, so it cannot be mistaken for the real writer.
 */
export function auditWriterNotYetWired(log: (event: ProviderAuditEvent) => void): AuditWriter {
  return async (_tx, event) => {
    log(event);
  };
}
