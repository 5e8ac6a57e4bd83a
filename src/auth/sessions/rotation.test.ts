import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/db.ts';
import { testConfig } from '../../../test/support/app.ts';
import { createUser } from '../../../test/support/identity.ts';
import { sessions } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { rotateSession, startSession } from './session.service.ts';
import { revokeSessionOfUser } from './session.repo.ts';

/**
 * Review finding: rotation revoked the old session whatever its state, so a session revoked (or
 * already rotated) in the meantime still gave birth to a fresh one. Rotation now succeeds only
 * for a session still live, once.
 */
describe('session rotation', () => {
  let database: TestDatabase;
  const timeouts = testConfig().sessions;
  const context = { ip: '127.0.0.1', requestId: 'r', userAgent: 'test' };

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  it('a revoked session cannot be rotated into a new one; a session rotates only once', async () => {
    const userId = await createUser(database.db, { email: 'rotor@example.org' });
    const revoked = await withUnscoped(database.db, (tx) => startSession(tx, timeouts, { userId, organizationId: null, mfaVerifiedAt: null }, context));
    await withUnscoped(database.db, (tx) => revokeSessionOfUser(tx, userId, revoked.sessionId));
    await expect(withUnscoped(database.db, (tx) => rotateSession(tx, timeouts, revoked.sessionId, { mfaVerifiedAt: new Date() }, context))).rejects.toMatchObject({ code: 'unauthenticated' });

    const live = await withUnscoped(database.db, (tx) => startSession(tx, timeouts, { userId, organizationId: null, mfaVerifiedAt: null }, context));
    await withUnscoped(database.db, (tx) => rotateSession(tx, timeouts, live.sessionId, {}, context));
    await expect(withUnscoped(database.db, (tx) => rotateSession(tx, timeouts, live.sessionId, {}, context))).rejects.toMatchObject({ code: 'unauthenticated' });
    // Two sessions started, one rotation succeeded: three rows, only the rotated one live.
    const rows = await withUnscoped(database.db, (tx) => tx.select().from(sessions));
    expect(rows.filter((r) => r.userId === userId)).toHaveLength(3);
    expect(rows.filter((r) => r.userId === userId && r.revokedAt === null)).toHaveLength(1);
  });
});
