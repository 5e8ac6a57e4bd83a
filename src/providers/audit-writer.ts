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
 * change it records). In production this is the audit room's `recordAuditEvent`.
 */
export type AuditWriter = (tx: AppTx, event: ProviderAuditEvent) => Promise<unknown>;
