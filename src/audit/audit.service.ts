// TEMPORARY STAND-IN until branch audit-email is merged (its file replaces this one entirely).
import type { AppTx } from '../db/client.ts';

export interface AuditEventInput {
  organizationId: string | null;
  actorType: 'user' | 'api_key' | 'operator' | 'system';
  actorId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  outcome?: 'success' | 'failure';
  ip?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

export async function recordAuditEvent(_tx: AppTx, _event: AuditEventInput): Promise<{ id: string; hash: string }> {
  return { id: '00000000-0000-0000-0000-000000000000', hash: '' };
}
