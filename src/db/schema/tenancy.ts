import { sql, type SQL } from 'drizzle-orm';
import { pgPolicy, pgRole, type AnyPgColumn } from 'drizzle-orm/pg-core';

/**
 * The role every application query runs as. Row-level security applies to it, so a query that
 * forgets its `organization_id` filter still sees only the organisation set for the transaction.
 * Created (with its grants) by the custom migration `0000_roles_and_extensions.sql`.
 */
export const APP_ROLE_NAME = 'savoir_app';
/**
 * The role of platform work (`withUnscoped`): bypasses RLS, owns nothing, cannot alter tables or
 * rewrite the audit log. Created by the custom migration `0005_platform_role.sql`.
 */
export const PLATFORM_ROLE_NAME = 'savoir_platform';
export const appRole = pgRole(APP_ROLE_NAME).existing();

/** The organisation of the current transaction, set by `withTenant`; NULL when none is set. */
export const currentOrganizationId: SQL = sql`nullif(current_setting('app.org', true), '')::uuid`;

/** The policy every client table carries: rows of the transaction's organisation only. */
export function tenantIsolationPolicy(organizationColumn: AnyPgColumn) {
  return pgPolicy('tenant_isolation', {
    as: 'permissive',
    for: 'all',
    to: appRole,
    using: sql`${organizationColumn} = ${currentOrganizationId}`,
    withCheck: sql`${organizationColumn} = ${currentOrganizationId}`,
  });
}
