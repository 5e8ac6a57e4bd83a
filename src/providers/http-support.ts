/** The actor of a request, for audit events: the audit room's one mapping from principal to actor. */
export { auditActorOf as actorOf } from '../audit/actor.ts';
