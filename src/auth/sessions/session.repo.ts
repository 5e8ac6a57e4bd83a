import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import type { AppDb, AppTx } from '../../db/client.ts';
import { queryRows } from '../../db/client.ts';
import { sessions } from '../../db/schema/index.ts';

/** A session with everything needed to decide who is calling, read at every request (no cache). */
export interface SessionSubjectRow {
  session_id: string;
  user_id: string;
  organization_id: string | null;
  created_at: Date;
  last_seen_at: Date;
  idle_expires_at: Date;
  absolute_expires_at: Date;
  mfa_verified_at: Date | null;
  revoked_at: Date | null;
  user_status: 'active' | 'deactivated';
  is_platform_operator: boolean;
  membership_role: string | null;
  grant_id: string | null;
  grant_scope: 'read' | 'write' | null;
  mfa_enrolled: boolean;
}

/** Platform-level read (sessions precede any tenant): the membership and support grant come with it. */
export async function findSessionSubjectUnscoped(tx: AppTx | AppDb, tokenHash: string): Promise<SessionSubjectRow | undefined> {
  const rows = await queryRows<SessionSubjectRow>(
    tx,
    sql`select s.id as session_id, s.user_id, s.organization_id, s.created_at, s.last_seen_at, s.idle_expires_at,
          s.absolute_expires_at, s.mfa_verified_at, s.revoked_at, u.status as user_status, u.is_platform_operator,
          m.role::text as membership_role, g.id as grant_id, g.scope::text as grant_scope,
          (exists (select 1 from totp_factors t where t.user_id = u.id and t.confirmed_at is not null)
            or exists (select 1 from webauthn_credentials w where w.user_id = u.id)) as mfa_enrolled
        from sessions s
        join users u on u.id = s.user_id
        left join memberships m on m.user_id = s.user_id and m.organization_id = s.organization_id
        left join lateral (
          select id, scope from support_grants sg
          where sg.organization_id = s.organization_id and u.is_platform_operator
            and sg.revoked_at is null and sg.expires_at > now()
          order by sg.scope desc, sg.expires_at desc limit 1
        ) g on true
        where s.token_hash = ${tokenHash}`,
  );
  const row = rows[0];
  if (!row) return undefined;
  // Raw rows: PGlite and node-postgres both give Date for timestamptz; normalise defensively.
  for (const key of ['created_at', 'last_seen_at', 'idle_expires_at', 'absolute_expires_at', 'mfa_verified_at', 'revoked_at'] as const) {
    const value = row[key] as unknown;
    if (value !== null && !(value instanceof Date)) (row as unknown as Record<string, unknown>)[key] = new Date(value as string);
  }
  return row;
}

export async function touchSession(tx: AppTx | AppDb, sessionId: string, now: Date, idleExpiresAt: Date): Promise<void> {
  await tx.update(sessions).set({ lastSeenAt: now, idleExpiresAt }).where(eq(sessions.id, sessionId));
}

export async function listActiveSessionsOfUser(tx: AppTx, userId: string) {
  return tx
    .select()
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.absoluteExpiresAt, sql`now()`), gt(sessions.idleExpiresAt, sql`now()`)))
    .orderBy(desc(sessions.lastSeenAt));
}

export async function revokeSessionOfUser(tx: AppTx, userId: string, sessionId: string): Promise<boolean> {
  const revoked = await tx
    .update(sessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return revoked.length > 0;
}

/** Ends every session of a user (deactivation, password reset, MFA reset), or those in one organisation (removal). */
export async function revokeAllSessionsOfUser(tx: AppTx, userId: string, organizationId?: string): Promise<number> {
  const revoked = await tx
    .update(sessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), organizationId ? eq(sessions.organizationId, organizationId) : undefined))
    .returning({ id: sessions.id });
  return revoked.length;
}
