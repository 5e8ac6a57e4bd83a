import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import type { Config } from '../../config/load.ts';
import type { AppTx } from '../../db/client.ts';
import { sessions } from '../../db/schema/index.ts';
import { AppError } from '../../http/errors.ts';
import type { RequestContext } from '../request-context.ts';
import { hashToken, newToken } from '../tokens.ts';

export interface StartedSession {
  sessionId: string;
  /** The cookie value: given to the browser once, never stored. */
  token: string;
}

/** Opens a session; the caller sets the cookie. */
export async function startSession(
  tx: AppTx,
  timeouts: Config['sessions'],
  fields: { userId: string; organizationId: string | null; mfaVerifiedAt: Date | null; absoluteExpiresAt?: Date },
  context: RequestContext,
  now = new Date(),
): Promise<StartedSession> {
  const token = newToken();
  const absoluteExpiresAt = fields.absoluteExpiresAt ?? new Date(now.getTime() + timeouts.absoluteTimeoutMs);
  const idleExpiresAt = new Date(Math.min(now.getTime() + timeouts.idleTimeoutMs, absoluteExpiresAt.getTime()));
  const [row] = await tx
    .insert(sessions)
    .values({
      tokenHash: hashToken(token),
      userId: fields.userId,
      organizationId: fields.organizationId,
      mfaVerifiedAt: fields.mfaVerifiedAt,
      createdAt: now,
      lastSeenAt: now,
      idleExpiresAt,
      absoluteExpiresAt,
      ip: context.ip,
      userAgent: context.userAgent,
    })
    .returning({ id: sessions.id });
  return { sessionId: row!.id, token };
}

/**
 * A new session id (and cookie) whenever the session's privileges change: second factor proven,
 * organisation switched. The old id stops working at once, so a token captured before the change
 * is worth nothing after it. The absolute expiry of the original sign-in is kept.
 */
export async function rotateSession(
  tx: AppTx,
  timeouts: Config['sessions'],
  oldSessionId: string,
  changes: { organizationId?: string | null; mfaVerifiedAt?: Date | null },
  context: RequestContext,
): Promise<StartedSession> {
  // Only a session still live rotates, and only once: revoked (signed out, ended by an administrator)
  // or already rotated by a concurrent request, it must not give birth to a new one. The update
  // takes the row lock, so of two concurrent rotations the second finds it revoked.
  const [old] = await tx
    .update(sessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(sessions.id, oldSessionId), isNull(sessions.revokedAt), gt(sessions.idleExpiresAt, sql`now()`), gt(sessions.absoluteExpiresAt, sql`now()`)))
    .returning();
  if (!old) throw new AppError('unauthenticated', 'This session has ended: sign in again');
  return startSession(
    tx,
    timeouts,
    {
      userId: old.userId,
      organizationId: changes.organizationId === undefined ? old.organizationId : changes.organizationId,
      mfaVerifiedAt: changes.mfaVerifiedAt === undefined ? old.mfaVerifiedAt : changes.mfaVerifiedAt,
      absoluteExpiresAt: old.absoluteExpiresAt,
    },
    context,
  );
}
