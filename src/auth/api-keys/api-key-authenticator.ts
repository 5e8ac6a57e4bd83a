import type { FastifyRequest } from 'fastify';
import type { Role } from '../../access/permissions.ts';
import type { AppDb } from '../../db/client.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import type { Authenticator } from '../../http/route-access.ts';
import { hashToken, safeEqual } from '../tokens.ts';
import { parseApiKey } from './api-key-format.ts';
import { findApiKeySubjectByPrefixUnscoped, markApiKeyUsedUnscoped } from './api-key.repo.ts';

/**
 * Authenticates `Authorization: Bearer sk_...`. Checked against the database at every request: a
 * revoked or expired key, or one whose creator left the organisation or was deactivated, fails at once.
 * The key acts with its creator's current role, narrowed to the permissions it carries.
 */
export function apiKeyAuthenticator(db: AppDb): Authenticator {
  return async (request: FastifyRequest) => {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) return undefined;
    const key = header.slice('Bearer '.length).trim();
    const parsed = parseApiKey(key);
    if (!parsed) return undefined;
    return withUnscoped(db, async (tx) => {
      const row = await findApiKeySubjectByPrefixUnscoped(tx, parsed.prefix);
      if (!row || !safeEqual(row.secret_hash, hashToken(key))) return undefined;
      if (row.revoked_at !== null || (row.expires_at && row.expires_at <= new Date())) return undefined;
      if (row.creator_status !== 'active' || !row.creator_role) return undefined;
      await markApiKeyUsedUnscoped(tx, row.id);
      return {
        organizationId: row.organization_id,
        role: row.creator_role as Role,
        apiKeyId: row.id,
        keyPermissions: row.permissions,
        assistantIds: row.assistant_ids,
      };
    });
  };
}
