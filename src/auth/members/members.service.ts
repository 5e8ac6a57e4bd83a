import { eq } from 'drizzle-orm';
import { roleHasPermission, rolesRequiringMfa, type OrganizationRole, type Permission, type Role } from '../../access/permissions.ts';
import { recordAuditEvent } from '../../audit/audit.service.ts';
import type { AppTx } from '../../db/client.ts';
import type { Config } from '../../config/load.ts';
import { organizations, recoveryCodes, totpFactors, webauthnCredentials } from '../../db/schema/index.ts';
import { AppError } from '../../http/errors.ts';
import type { TenantPrincipal } from '../../http/route-access.ts';
import { queueEmail } from '../../providers/email/outbox.service.ts';
import { revokeApiKeysCreatedBy } from '../api-keys/api-key.repo.ts';
import { auditActor } from '../audit-actor.ts';
import { revokePendingInvitationsBy } from '../invitations/invitations.service.ts';
import type { RequestContext } from '../request-context.ts';
import { revokeAllSessionsOfUser } from '../sessions/session.repo.ts';
import { deleteMember, findRoleOf, lockOwners, findMember, findStandingElsewhereUnscoped, setMemberRole } from './members.repo.ts';

/**
 * Rules on owners: only an owner makes or unmakes an owner, and an organisation always keeps one.
 * (The matrix decides who may manage members at all; these are invariants of the data.)
 */
async function loadTarget(tx: AppTx, actor: TenantPrincipal, membershipId: string, permission: Permission) {
  const actorRole = await currentRoleOf(tx, actor, permission);
  const target = await findMember(tx, actor, membershipId);
  if (!target) throw new AppError('not_found', 'No such member');
  if (target.role === 'owner' && actorRole !== 'owner') throw new AppError('forbidden', 'Only an owner may change or remove an owner');
  return { ...target, actorRole };
}

/**
 * The actor's role now, not when the request was authenticated: a request that waited for the
 * owners' lock may belong to someone demoted meanwhile. (API keys carry their creator's role as
 * read at authentication, which the key authenticator re-reads at every request.)
 */
async function currentRoleOf(tx: AppTx, actor: TenantPrincipal, permission: Permission): Promise<Role> {
  if (!actor.userId || actor.supportGrantId) return actor.role;
  const role = (await findRoleOf(tx, actor, actor.userId)) as Role | undefined;
  if (!role || !roleHasPermission(role, permission)) throw new AppError('forbidden', 'Your role here has changed: sign in again');
  return role;
}

/** `owners` comes from lockOwners, taken first in the transaction (before reading the target). */
function keepAnOwner(owners: number, leavingRole: string): void {
  if (leavingRole === 'owner' && owners <= 1) throw new AppError('conflict', 'An organisation must keep at least one owner');
}

export async function changeMemberRole(tx: AppTx, actor: TenantPrincipal, membershipId: string, role: OrganizationRole, context: RequestContext): Promise<void> {
  const owners = await lockOwners(tx, actor);
  const target = await loadTarget(tx, actor, membershipId, 'members:change-role');
  if (role === 'owner' && target.actorRole !== 'owner') throw new AppError('forbidden', 'Only an owner may make someone an owner');
  if (target.role === role) return;
  keepAnOwner(owners, target.role);
  await setMemberRole(tx, actor, membershipId, role);
  // A privilege change ends the person's sessions here: they sign in again under a new session id
  // (and, for an administrator role, meet the second-factor requirement at once).
  const sessionsRevoked = await revokeAllSessionsOfUser(tx, target.userId, actor.organizationId);
  await recordAuditEvent(tx, { ...auditActor(actor, context), organizationId: actor.organizationId, action: 'member.role_changed', targetType: 'user', targetId: target.userId, details: { from: target.role, to: role, sessionsRevoked } });
}

/** Removal cuts the person off at once: their sessions in this organisation, their keys and their pending invitations here end. */
export async function removeMember(tx: AppTx, actor: TenantPrincipal, membershipId: string, context: RequestContext): Promise<void> {
  const owners = await lockOwners(tx, actor);
  const target = await loadTarget(tx, actor, membershipId, 'members:remove');
  keepAnOwner(owners, target.role);
  await deleteMember(tx, actor, membershipId);
  const sessions = await revokeAllSessionsOfUser(tx, target.userId, actor.organizationId);
  const keys = await revokeApiKeysCreatedBy(tx, target.userId, actor.organizationId);
  const invitationsRevoked = await revokePendingInvitationsBy(tx, target.userId, actor.organizationId);
  await recordAuditEvent(tx, { ...auditActor(actor, context), organizationId: actor.organizationId, action: 'member.removed', targetType: 'user', targetId: target.userId, details: { role: target.role, sessionsRevoked: sessions, apiKeysRevoked: keys, invitationsRevoked } });
}

/**
 * For a member who lost their factors: they enrol again at next sign-in; their sessions in this
 * organisation end now. Factors belong to the person, not the organisation, so an administrator
 * here may not reset someone whose factors guard more than this organisation: a platform operator
 * or an owner/administrator elsewhere (they ask that organisation or the platform instead). Their
 * sessions elsewhere are not this organisation's to end.
 */
export async function resetMemberMfa(tx: AppTx, config: Config, actor: TenantPrincipal, membershipId: string, context: RequestContext): Promise<'done' | 'refused'> {
  const target = await loadTarget(tx, actor, membershipId, 'members:reset-mfa');
  if (target.userId === actor.userId) throw new AppError('forbidden', 'Reset your own factors from your account, or ask another administrator');
  const elsewhere = await findStandingElsewhereUnscoped(tx, actor, target.userId);
  if (elsewhere.operator || elsewhere.roles.some((role) => rolesRequiringMfa.includes(role as Role))) {
    await recordAuditEvent(tx, { ...auditActor(actor, context), organizationId: actor.organizationId, action: 'member.mfa_reset', outcome: 'failure', targetType: 'user', targetId: target.userId, details: { reason: 'privileged_elsewhere' } });
    return 'refused';
  }
  await tx.delete(totpFactors).where(eq(totpFactors.userId, target.userId));
  await tx.delete(webauthnCredentials).where(eq(webauthnCredentials.userId, target.userId));
  await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, target.userId));
  const sessionsRevoked = await revokeAllSessionsOfUser(tx, target.userId, actor.organizationId);
  const [organization] = await tx.select({ name: organizations.name }).from(organizations).where(eq(organizations.id, actor.organizationId));
  await queueEmail(tx, { organizationId: actor.organizationId, to: target.email, template: 'mfa-reset', locale: target.locale === 'en' ? 'en' : 'fr', variables: { organizationName: organization?.name ?? '', link: `${config.http.publicUrl}/login` } });
  await recordAuditEvent(tx, { ...auditActor(actor, context), organizationId: actor.organizationId, action: 'member.mfa_reset', targetType: 'user', targetId: target.userId, details: { sessionsRevoked } });
  return 'done';
}
