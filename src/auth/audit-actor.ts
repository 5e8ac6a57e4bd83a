import type { AuditEventInput } from '../audit/audit.service.ts';
import type { Principal } from '../http/route-access.ts';
import type { RequestContext } from './request-context.ts';

/** Who did it and from where, as every audit event written by a route records it. */
export function auditActor(principal: Principal, context: RequestContext): Pick<AuditEventInput, 'actorType' | 'actorId' | 'ip' | 'requestId' | 'details'> {
  if (principal.apiKeyId) return { actorType: 'api_key', actorId: principal.apiKeyId, ip: context.ip, requestId: context.requestId };
  return {
    actorType: principal.operator ? 'operator' : 'user',
    actorId: principal.userId ?? null,
    ip: context.ip,
    requestId: context.requestId,
    ...(principal.supportGrantId ? { details: { supportGrantId: principal.supportGrantId } } : {}),
  };
}
