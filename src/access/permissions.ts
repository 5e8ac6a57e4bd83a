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
