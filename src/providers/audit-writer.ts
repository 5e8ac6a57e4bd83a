import type { AuditEventInput } from '../audit/audit.service.ts';
import type { AppTx } from '../db/client.ts';

/** The audit events the providers room writes: the audit log's own input type. */
export type ProviderAuditEvent = AuditEventInput;

/**
 * Writes an audit event in the caller's transaction (the event commits or rolls back with the
 * change it records). In production this is the audit room's `recordAuditEvent`; tests may wrap it.
 */
export type AuditWriter = (tx: AppTx, event: ProviderAuditEvent) => Promise<unknown>;
