/**
 * The permission matrix: which role may do which action. The only place in Savoir where roles
 * are related to actions; routes declare the action they need, services never look at roles.
 */
export const organizationRoles = ['owner', 'admin', 'editor', 'analyst', 'member'] as const;
export type OrganizationRole = (typeof organizationRoles)[number];
/** Platform staff: a separate role with no access to client content unless a client grants it. */
export type PlatformRole = 'operator';
export type Role = OrganizationRole | PlatformRole;

export const permissions = {
  'jobs:read': ['owner', 'admin', 'editor', 'analyst'],
  /** See the provider catalogue, the organisation's provider configurations (masked), policy and token usage; check a model choice. */
  'providers:read': ['owner', 'admin', 'editor', 'analyst'],
  /** Create, change, delete and test the organisation's provider configurations (credentials). */
  'providers:manage': ['owner', 'admin'],
  /** Change the organisation's data policy (EU-only, no training). */
  'policy:manage': ['owner', 'admin'],
  /** Edit the platform's provider catalogue and its compliance metadata. */
  'catalogue:manage': ['operator'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof permissions;

export function roleHasPermission(role: Role, permission: Permission): boolean {
  return (permissions[permission] as readonly Role[]).includes(role);
}
