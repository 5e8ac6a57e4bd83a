import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import { mayInviteAs } from '../../access/authorize.ts';
import type { OrganizationRole } from '../../access/permissions.ts';
import { recordAuditEvent, type AuditEventInput } from '../../audit/audit.service.ts';
import type { Config } from '../../config/load.ts';
import type { AppTx } from '../../db/client.ts';
import { invitations, memberships, organizations, users } from '../../db/schema/index.ts';
import type { TenantContext } from '../../db/tenancy.ts';
import { AppError } from '../../http/errors.ts';
import { queueEmail } from '../../providers/email/outbox.service.ts';
import { hashPassword, verifyPassword } from '../passwords/password-hash.ts';
import { passwordProblem } from '../passwords/password-policy.ts';
import type { RequestContext } from '../request-context.ts';
import { hashToken, newToken } from '../tokens.ts';
import { findUserByEmailUnscoped } from '../users.repo.ts';

export const INVITATION_TTL_MS = 7 * 24 * 60 * 60_000;

/**
 * Invites an e-mail into the organisation with a role. The token travels only in the e-mail; the
 * database keeps its hash. `actor` is whoever invites (an administrator, or an operator for a first owner).
 */
export async function createInvitation(
  tx: AppTx,
  config: Config,
  tenant: TenantContext,
  input: { email: string; role: OrganizationRole; locale?: 'fr' | 'en' },
  actor: Pick<AuditEventInput, 'actorType' | 'actorId' | 'ip' | 'requestId'> & { userId: string | null },
) {
  const email = input.email.trim();
  const existingUser = await findUserByEmailUnscoped(tx, email);
  if (existingUser) {
    const [member] = await tx.select().from(memberships).where(and(eq(memberships.organizationId, tenant.organizationId), eq(memberships.userId, existingUser.id)));
    if (member) throw new AppError('conflict', 'This person is already a member', { errors: [{ field: 'body.email', message: 'already a member' }] });
  }
  const token = newToken();
  const expiresAt = new Date(Date.now() + INVITATION_TTL_MS);
  const [row] = await tx
    .insert(invitations)
    .values({ organizationId: tenant.organizationId, email, role: input.role, tokenHash: hashToken(token), invitedBy: actor.userId, expiresAt })
    .returning();
  const [organization] = await tx.select({ name: organizations.name }).from(organizations).where(eq(organizations.id, tenant.organizationId));
  await queueEmail(tx, {
    organizationId: tenant.organizationId,
    to: email,
    template: 'invitation',
    locale: input.locale ?? (existingUser?.locale === 'en' ? 'en' : 'fr'),
    variables: { link: `${config.http.publicUrl}/invitations/accept#token=${token}`, organizationName: organization?.name ?? '', role: input.role, expiresAt: expiresAt.toISOString() },
  });
  await recordAuditEvent(tx, { ...actor, organizationId: tenant.organizationId, action: 'invitation.created', targetType: 'invitation', targetId: row!.id, details: { email, role: input.role } });
  return row!;
}

export async function listPendingInvitations(tx: AppTx, tenant: TenantContext) {
  return tx
    .select()
    .from(invitations)
    .where(and(eq(invitations.organizationId, tenant.organizationId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt), gt(invitations.expiresAt, sql`now()`)))
    .orderBy(desc(invitations.createdAt));
}

export async function revokeInvitation(tx: AppTx, tenant: TenantContext, invitationId: string) {
  const [row] = await tx
    .update(invitations)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(invitations.organizationId, tenant.organizationId), eq(invitations.id, invitationId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt)))
    .returning();
  return row;
}

/**
 * Accepts an invitation (public route: the token is the proof). A newcomer chooses a password; an
 * existing account proves itself with its current password. Platform-level because the caller has
 * no organisation yet; the event goes to the inviting organisation's chain.
 */
export async function acceptInvitationUnscoped(tx: AppTx, input: { token: string; password: string }, context: RequestContext): Promise<{ userId: string; organizationId: string } | AppError> {
  const [invitation] = await tx.select().from(invitations).where(eq(invitations.tokenHash, hashToken(input.token))).for('update');
  const invalid = new AppError('bad_request', 'This invitation is invalid, expired, revoked or already used', { errors: [{ field: 'body.token', message: 'not a valid invitation' }] });
  if (!invitation || invitation.acceptedAt || invitation.revokedAt || invitation.expiresAt <= new Date()) throw invalid;
  if (!(await inviterStillVouchesUnscoped(tx, invitation))) {
    await recordAuditEvent(tx, { organizationId: invitation.organizationId, actorType: 'system', actorId: null, action: 'invitation.accepted', outcome: 'failure', targetType: 'invitation', targetId: invitation.id, ip: context.ip, requestId: context.requestId, details: { reason: 'inviter_no_longer_entitled' } });
    return invalid;
  }
  let user = await findUserByEmailUnscoped(tx, invitation.email);
  if (user) {
    const check = user.passwordHash ? await verifyPassword(user.passwordHash, input.password) : { ok: false };
    if (!check.ok || user.status !== 'active') throw new AppError('unauthenticated', 'Sign in with your existing password to accept', { errors: [{ field: 'body.password', message: 'incorrect' }] });
  } else {
    const problem = passwordProblem(input.password, invitation.email);
    if (problem) throw new AppError('validation_failed', `The password ${problem}`, { errors: [{ field: 'body.password', message: problem }] });
    [user] = await tx.insert(users).values({ email: invitation.email, passwordHash: await hashPassword(input.password) }).returning();
  }
  await tx.insert(memberships).values({ organizationId: invitation.organizationId, userId: user!.id, role: invitation.role }).onConflictDoNothing();
  await tx.update(invitations).set({ acceptedAt: sql`now()` }).where(eq(invitations.id, invitation.id));
  await recordAuditEvent(tx, {
    organizationId: invitation.organizationId,
    actorType: 'user',
    actorId: user!.id,
    action: 'invitation.accepted',
    targetType: 'invitation',
    targetId: invitation.id,
    ip: context.ip,
    requestId: context.requestId,
    details: { email: invitation.email, role: invitation.role },
  });
  return { userId: user!.id, organizationId: invitation.organizationId };
}

/**
 * An invitation is worth what its inviter is worth now: still active and, in the organisation,
 * still allowed to invite that role. A platform operator's invitation (an organisation's first
 * owner) holds while the operator is active.
 */
async function inviterStillVouchesUnscoped(tx: AppTx, invitation: typeof invitations.$inferSelect): Promise<boolean> {
  if (!invitation.invitedBy) return false;
  const [inviter] = await tx.select().from(users).where(eq(users.id, invitation.invitedBy));
  if (!inviter || inviter.status !== 'active') return false;
  const [membership] = await tx.select().from(memberships).where(and(eq(memberships.organizationId, invitation.organizationId), eq(memberships.userId, inviter.id)));
  if (!membership) return inviter.isPlatformOperator;
  return mayInviteAs(membership.role, invitation.role);
}

/** A leaver's pending invitations end with them (in one organisation on removal, everywhere on deactivation). */
export async function revokePendingInvitationsBy(tx: AppTx, userId: string, organizationId?: string): Promise<number> {
  const revoked = await tx
    .update(invitations)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(invitations.invitedBy, userId), isNull(invitations.acceptedAt), isNull(invitations.revokedAt), organizationId ? eq(invitations.organizationId, organizationId) : undefined))
    .returning({ id: invitations.id });
  return revoked.length;
}
