import type { FastifyRequest } from 'fastify';
import { recordAuditEvent, type AuditEventInput } from '../audit/audit.service.ts';
import { auditActor } from '../auth/audit-actor.ts';
import { requestContextOf } from '../auth/request-context.ts';
import type { AppTx } from '../db/client.ts';
import type { TenantContext } from '../db/tenancy.ts';
import { principalOf } from '../http/route-access.ts';

export type KnowledgeActor = ReturnType<typeof auditActor>;

/** Who asked, and from where, for the audit events of the knowledge routes. */
export function knowledgeActorOf(request: FastifyRequest): KnowledgeActor {
  return auditActor(principalOf(request), requestContextOf(request));
}

/** Records a change to an organisation's knowledge in the transaction that makes it. */
export async function auditKnowledgeChange(
  tx: AppTx,
  tenant: TenantContext,
  actor: KnowledgeActor,
  event: Pick<AuditEventInput, 'action' | 'targetType' | 'targetId'> & { details?: Record<string, unknown> },
): Promise<void> {
  await recordAuditEvent(tx, { organizationId: tenant.organizationId, ...actor, ...event, details: { ...actor.details, ...event.details } });
}
