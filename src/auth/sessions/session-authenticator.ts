import type { FastifyRequest } from 'fastify';
import { supportScopeRoles, type Role } from '../../access/permissions.ts';
import type { Config } from '../../config/load.ts';
import type { AppDb } from '../../db/client.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { AppError } from '../../http/errors.ts';
import type { Authenticator, Principal } from '../../http/route-access.ts';
import { safeEqual, hashToken } from '../tokens.ts';
import { CSRF_HEADER, csrfTokenFor, SAFE_METHODS, sessionTokenOf } from './session-cookie.ts';
import { findSessionSubjectUnscoped, touchSession, type SessionSubjectRow } from './session.repo.ts';

/** Writing last-seen at most this often keeps reads cheap; idle timeouts are counted in minutes. */
const TOUCH_EVERY_MS = 15_000;

declare module 'fastify' {
  interface FastifyRequest {
    /** The raw session token of a cookie-authenticated request (to rotate or derive the CSRF token). */
    sessionToken?: string;
  }
}

/**
 * Authenticates the session cookie. Everything is read from the database at every request (no
 * cache), so a revoked session, a deactivated user or a removed membership fails at once.
 */
export function sessionAuthenticator(db: AppDb, timeouts: Config['sessions']): Authenticator {
  return async (request: FastifyRequest) => {
    const token = sessionTokenOf(request);
    if (!token) return undefined;
    const principal = await withUnscoped(db, async (tx) => {
      const row = await findSessionSubjectUnscoped(tx, hashToken(token));
      const now = new Date();
      if (!row || !isLive(row, now)) return undefined;
      const subject = principalFromRow(row);
      if (!subject) return undefined;
      if (now.getTime() - row.last_seen_at.getTime() > TOUCH_EVERY_MS) {
        const idleExpiresAt = new Date(Math.min(now.getTime() + timeouts.idleTimeoutMs, row.absolute_expires_at.getTime()));
        await touchSession(tx, row.session_id, now, idleExpiresAt);
      }
      return subject;
    });
    if (!principal) return undefined;
    // A cookie is sent by the browser whoever asks: a state change needs proof the page asked.
    if (!SAFE_METHODS.has(request.method)) {
      const header = request.headers[CSRF_HEADER];
      if (typeof header !== 'string' || !safeEqual(header, csrfTokenFor(token))) {
        throw new AppError('csrf_failed', `Send the session's CSRF token in the ${CSRF_HEADER} header`);
      }
    }
    request.sessionToken = token;
    return principal;
  };
}

function isLive(row: SessionSubjectRow, now: Date): boolean {
  return row.revoked_at === null && row.idle_expires_at > now && row.absolute_expires_at > now && row.user_status === 'active';
}

function principalFromRow(row: SessionSubjectRow): Principal | undefined {
  const base = {
    userId: row.user_id,
    sessionId: row.session_id,
    mfa: { enrolled: row.mfa_enrolled, verifiedAt: row.mfa_verified_at },
    operator: row.is_platform_operator,
  };
  if (row.organization_id === null) {
    return row.is_platform_operator ? { ...base, organizationId: null, role: 'operator' } : undefined;
  }
  if (row.membership_role) return { ...base, organizationId: row.organization_id, role: row.membership_role as Role };
  // An operator inside a client organisation only under a live support grant, with its scope's role.
  if (row.is_platform_operator && row.grant_id && row.grant_scope) {
    return { ...base, organizationId: row.organization_id, role: supportScopeRoles[row.grant_scope], supportGrantId: row.grant_id };
  }
  return undefined;
}
