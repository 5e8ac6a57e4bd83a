/**
 * The permission matrix: which role may do which action. The only place in Savoir where roles
 * are related to actions; routes declare the action they need, services never look at roles.
 */
export const organizationRoles = ['owner', 'admin', 'editor', 'analyst', 'member'] as const;
export type OrganizationRole = (typeof organizationRoles)[number];
/** Platform staff: a separate role with no access to client content unless a client grants it. */
export type PlatformRole = 'operator';
export type Role = OrganizationRole | PlatformRole;

const everyone = ['owner', 'admin', 'editor', 'analyst', 'member', 'operator'] as const;
const administrators = ['owner', 'admin'] as const;

export const permissions = {
  'jobs:read': ['owner', 'admin', 'editor', 'analyst'],

  // One's own account: whoever is signed in, whatever their role.
  /** Minimal and safe before the second factor: who am I and what next (/me), sign out. */
  'session:self': everyone,
  /** One's sessions (list, revoke), factors list, switching organisation: only once fully signed in. */
  'session:manage': everyone,
  'mfa:enrol': everyone,
  'mfa:verify': everyone,
  /** Managing one's own factors (new recovery codes, removing a factor): needs a recent second factor. */
  'mfa:manage': everyone,
  'account:password': everyone,

  // Joiners and leavers, in the caller's organisation.
  'members:read': administrators,
  'members:invite': administrators,
  /** Inviting someone as admin or owner: needs step-up (so never an API key). See invitePermissionFor. */
  'members:invite-administrator': administrators,
  'members:change-role': administrators,
  'members:remove': administrators,
  'members:reset-mfa': administrators,

  'api-keys:read': administrators,
  'api-keys:create': administrators,
  'api-keys:revoke': administrators,

  // Support access granted to platform operators: visible to administrators, granted by owners.
  'support-grants:read': administrators,
  'support-grants:manage': ['owner'],
  // Ending support access early only reduces access: any administrator may, without step-up.
  'support-grants:revoke': administrators,

  // Platform level: operators only.
  'organizations:create': ['operator'],
  'organizations:read': ['operator'],
  'users:deactivate': ['operator'],
  'audit:read': ['owner', 'admin'],
  'audit:export': ['owner', 'admin'],
  /** The platform's own audit chain (operators' actions, bootstrap); no client content. */
  'platform-audit:read': ['operator'],
  /** See the provider catalogue, the organisation's provider configurations (masked), policy and token usage; check a model choice. */
  'providers:read': ['owner', 'admin', 'editor', 'analyst'],
  /** Create, change, delete and test the organisation's provider configurations (credentials). */
  'providers:manage': ['owner', 'admin'],
  /** Change the organisation's data policy (EU-only, no training). */
  'policy:manage': ['owner', 'admin'],
  /** Edit the platform's provider catalogue and its compliance metadata. */
  'catalogue:manage': ['operator'],
  // Knowledge: analysts inspect sources and documents; editors curate them; members only search
  // (through assistants or the search API), never list what the organisation holds.
  'sources:read': ['owner', 'admin', 'editor', 'analyst'],
  'sources:manage': ['owner', 'admin', 'editor'],
  'search:query': ['owner', 'admin', 'editor', 'analyst', 'member'],
  // Changing the embedding model re-embeds everything (cost, data sent to a provider): administrators.
  'embeddings:manage': ['owner', 'admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof permissions;

export function roleHasPermission(role: Role, permission: Permission): boolean {
  return (permissions[permission] as readonly Role[]).includes(role);
}

/** Roles that must enrol a second factor before doing anything else. */
export const rolesRequiringMfa: readonly Role[] = ['owner', 'admin', 'operator'];

/**
 * Actions that need a second factor proven within the last STEP_UP_WINDOW_MS (step-up), even in
 * a session that proved one at sign-in. API keys can never hold them (they have no second factor).
 * Provider credentials join this list when their routes land.
 */
export const stepUpPermissions: ReadonlySet<Permission> = new Set<Permission>(['members:change-role', 'members:invite-administrator', 'members:reset-mfa', 'api-keys:create', 'support-grants:manage', 'mfa:manage']);
export const STEP_UP_WINDOW_MS = 10 * 60 * 1000;

/**
 * Actions that need step-up once the person has a second factor: adding another factor must be
 * vouched for by an existing one, else a stolen password-only (or stale) session could enrol a
 * factor of its own and use it to pass every step-up. The very first factor needs no step-up.
 */
export const stepUpOnceEnrolledPermissions: ReadonlySet<Permission> = new Set<Permission>(['mfa:enrol']);

/**
 * What a session may do before its second factor is proven: a minimal /me, sign out, prove the
 * factor. Not `session:manage`: a password alone must not see or end the fully signed-in sessions.
 */
export const permissionsBeforeMfaVerification: ReadonlySet<Permission> = new Set<Permission>(['session:self', 'mfa:verify']);
/** What a user who must enrol a second factor may do until they have: see itself, sign out, enrol. */
export const permissionsBeforeMfaEnrolment: ReadonlySet<Permission> = new Set<Permission>(['session:self', 'mfa:enrol']);

/** How a support grant's scope maps onto the matrix: operators never administer a client. */
export const supportScopeRoles = { read: 'analyst', write: 'editor' } as const satisfies Record<string, OrganizationRole>;

/** The permission an invitation needs: creating an administrator (or owner) is a step-up action. */
export function invitePermissionFor(role: OrganizationRole): Permission {
  return rolesRequiringMfa.includes(role) ? 'members:invite-administrator' : 'members:invite';
}
