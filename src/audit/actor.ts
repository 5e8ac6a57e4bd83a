import type { Principal } from '../http/route-access.ts';
import type { AuditEventInput } from './audit.service.ts';

/**
 * Who acted, for an audit event, from the request's principal. Identity fills the principal;
 * the fields read here are optional so that this works with any authenticator: an explicit
 * actor, else a user or API key id, else the role alone.
 */
export function auditActorOf(principal: Principal): Pick<AuditEventInput, 'actorType' | 'actorId'> {
  const known = principal as Principal & {
    actorType?: AuditEventInput['actorType'];
    actorId?: string;
    userId?: string;
    apiKeyId?: string;
    /** A platform operator, possibly acting inside an organisation under a support grant. */
    operator?: boolean;
  };
  if (known.actorType) return { actorType: known.actorType, actorId: known.actorId ?? null };
  if (known.apiKeyId) return { actorType: 'api_key', actorId: known.apiKeyId };
  return { actorType: known.operator || principal.role === 'operator' ? 'operator' : 'user', actorId: known.userId ?? null };
}
