import { AppError } from '../http/errors.ts';
import {
  permissionsBeforeMfaEnrolment,
  permissionsBeforeMfaVerification,
  roleHasPermission,
  rolesRequiringMfa,
  STEP_UP_WINDOW_MS,
  stepUpOnceEnrolledPermissions,
  stepUpPermissions,
  type OrganizationRole,
  type Permission,
  type Role,
} from './permissions.ts';

/** What authorization needs to know about a caller (a subset of the HTTP Principal). */
export interface AccessSubject {
  role: Role;
  /** Set for API keys: the permissions the key carries; it gets their intersection with its role's. */
  keyPermissions?: readonly string[];
  /** Set for sessions: the state of the second factor. */
  mfa?: { enrolled: boolean; verifiedAt: Date | null };
  /** True when a platform operator signs in (MFA is mandatory for them whatever the role in use). */
  operator?: boolean;
}

/**
 * The one decision point: the matrix, narrowed by an API key's scopes, then the second-factor
 * rules (mandatory enrolment for administrators and operators, verification at sign-in, step-up).
 * Throws a 403 with a code saying what the caller must do.
 */
export function authorize(subject: AccessSubject, permission: Permission, now = new Date()): void {
  if (!roleHasPermission(subject.role, permission)) {
    throw new AppError('forbidden', `Your role (${subject.role}) does not allow ${permission}`);
  }
  if (subject.keyPermissions) {
    if (!subject.keyPermissions.includes(permission)) throw new AppError('forbidden', `This API key does not carry ${permission}`);
    if (stepUpPermissions.has(permission)) throw new AppError('forbidden', `${permission} needs a second factor, which API keys cannot give: sign in`);
    return;
  }
  const mfa = subject.mfa;
  if (!mfa) return; // an authenticator without second factors (tests' stand-ins)
  const mustEnrol = subject.operator === true || rolesRequiringMfa.includes(subject.role);
  if (!mfa.enrolled) {
    if (mustEnrol && !permissionsBeforeMfaEnrolment.has(permission)) {
      throw new AppError('mfa_enrolment_required', 'Your role requires a second factor: enrol one (TOTP or a passkey) before anything else');
    }
    if (stepUpPermissions.has(permission)) throw new AppError('step_up_required', `${permission} needs a second factor: enrol one first`);
    return;
  }
  if (!mfa.verifiedAt) {
    if (!permissionsBeforeMfaVerification.has(permission)) throw new AppError('mfa_required', 'Prove your second factor to finish signing in');
    return;
  }
  const needsStepUp = stepUpPermissions.has(permission) || stepUpOnceEnrolledPermissions.has(permission);
  if (needsStepUp && now.getTime() - mfa.verifiedAt.getTime() > STEP_UP_WINDOW_MS) {
    throw new AppError('step_up_required', `${permission} needs a second factor proven in the last ${STEP_UP_WINDOW_MS / 60_000} minutes`);
  }
}

/** True when the permission is allowed for the role at all (the matrix only), for listing what a key may carry. */
export function roleMayGrant(role: Role, permission: Permission): boolean {
  return roleHasPermission(role, permission) && !stepUpPermissions.has(permission);
}

const roleRank: Record<OrganizationRole, number> = { member: 1, analyst: 2, editor: 3, admin: 4, owner: 5 };

/**
 * Whether someone with `inviterRole` may bring a person in with `role`: they must hold
 * members:invite and never give more than they have (so only an owner invites an owner). Checked
 * when inviting and again when the invitation is accepted (the inviter may have left or been demoted).
 */
export function mayInviteAs(inviterRole: Role, role: OrganizationRole): boolean {
  if (inviterRole === 'operator' || !roleHasPermission(inviterRole, 'members:invite')) return false;
  return roleRank[inviterRole] >= roleRank[role];
}
