import type { Principal } from '../http/route-access.ts';
import type { AuditEventInput } from './audit.service.ts';

/** Who acted, for an audit event: the one mapping from a request's principal to an actor. */
export function auditActorOf(principal: Principal): Pick<AuditEventInput, 'actorType' | 'actorId'> {
  if (principal.apiKeyId) return { actorType: 'api_key', actorId: principal.apiKeyId };
  // An operator stays an operator inside an organisation (support access).
  return { actorType: principal.operator || principal.role === 'operator' ? 'operator' : 'user', actorId: principal.userId ?? null };
}
