import { auditActorOf } from '../audit/actor.ts';
import type { AuditEventInput } from '../audit/audit.service.ts';
import type { Principal } from '../http/route-access.ts';
import type { RequestContext } from './request-context.ts';

/** Who did it and from where, as every audit event written by a route records it. */
export function auditActor(principal: Principal, context: RequestContext): Pick<AuditEventInput, 'actorType' | 'actorId' | 'ip' | 'requestId' | 'details'> {
  return {
    ...auditActorOf(principal),
    ip: context.ip,
    requestId: context.requestId,
    ...(principal.supportGrantId ? { details: { supportGrantId: principal.supportGrantId } } : {}),
  };
}
