import type { Principal } from '../http/route-access.ts';
import type { Actor } from './providers-deps.ts';

/**
 * The actor of a request, for audit events. The principal does not carry the user or API key id
 * yet (the identity room adds it): until then the id is null and the type says who acted.
 */
export function actorOf(principal: Principal): Actor {
  return { actorType: principal.role === 'operator' ? 'operator' : 'user', actorId: (principal as { userId?: string }).userId ?? null };
}
