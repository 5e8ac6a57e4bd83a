import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { recordAuditEvent } from '../../audit/audit.service.ts';
import type { Config } from '../../config/load.ts';
import type { AppDb, AppTx } from '../../db/client.ts';
import { setupTokens, users } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { AppError } from '../../http/errors.ts';
import { hashPassword } from '../passwords/password-hash.ts';
import { passwordProblem } from '../passwords/password-policy.ts';
import type { RequestContext } from '../request-context.ts';
import { hashToken, newToken } from '../tokens.ts';

export const SETUP_LINK_TTL_MS = 30 * 60_000;

async function anyOperatorExists(tx: AppTx): Promise<boolean> {
  const rows = await tx.select({ id: users.id }).from(users).where(eq(users.isPlatformOperator, true)).limit(1);
  return rows.length > 0;
}

/**
 * When no platform operator exists yet, makes a one-time setup link (valid 30 minutes) that
 * creates the first one; returns undefined once an operator exists. Used by `savoir bootstrap`
 * and at server start.
 */
export async function createSetupLinkIfNoOperatorUnscoped(db: AppDb, config: Config): Promise<{ link: string; expiresAt: Date } | undefined> {
  return withUnscoped(db, async (tx) => {
    if (await anyOperatorExists(tx)) return undefined;
    const token = newToken();
    const expiresAt = new Date(Date.now() + SETUP_LINK_TTL_MS);
    await tx.insert(setupTokens).values({ tokenHash: hashToken(token), expiresAt });
    await recordAuditEvent(tx, { organizationId: null, actorType: 'system', actorId: null, action: 'platform.setup_link.created', details: { expiresAt: expiresAt.toISOString() } });
    return { link: `${config.http.publicUrl}/setup#token=${token}`, expiresAt };
  });
}

/** Uses a setup link to create the first platform operator (who must then enrol a second factor). */
export async function completeSetupUnscoped(tx: AppTx, input: { token: string; email: string; password: string }, context: RequestContext): Promise<string> {
  const [token] = await tx
    .select()
    .from(setupTokens)
    .where(and(eq(setupTokens.tokenHash, hashToken(input.token)), isNull(setupTokens.usedAt), gt(setupTokens.expiresAt, sql`now()`)))
    .for('update');
  if (!token || (await anyOperatorExists(tx))) {
    throw new AppError('bad_request', 'This setup link is invalid, expired or already used', { errors: [{ field: 'body.token', message: 'not a valid setup token' }] });
  }
  const problem = passwordProblem(input.password, input.email);
  if (problem) throw new AppError('validation_failed', `The password ${problem}`, { errors: [{ field: 'body.password', message: problem }] });
  const [user] = await tx.insert(users).values({ email: input.email.trim(), passwordHash: await hashPassword(input.password), isPlatformOperator: true, locale: 'en' }).returning();
  await tx.update(setupTokens).set({ usedAt: sql`now()` }).where(eq(setupTokens.id, token.id));
  await recordAuditEvent(tx, { organizationId: null, actorType: 'operator', actorId: user!.id, action: 'platform.operator.bootstrapped', targetType: 'user', targetId: user!.id, ip: context.ip, requestId: context.requestId, details: { email: user!.email } });
  return user!.id;
}
