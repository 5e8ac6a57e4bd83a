import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { roleMayGrant } from '../../access/authorize.ts';
import { permissions, type Permission } from '../../access/permissions.ts';
import { recordAuditEvent } from '../../audit/audit.service.ts';
import type { AppDb } from '../../db/client.ts';
import type { ApiKey } from '../../db/schema/index.ts';
import { withTenant } from '../../db/tenancy.ts';
import { AppError } from '../../http/errors.ts';
import { principalOf } from '../../http/route-access.ts';
import { auditActor } from '../audit-actor.ts';
import { requestContextOf } from '../request-context.ts';
import { newApiKey } from './api-key-format.ts';
import { findApiKey, insertApiKey, listApiKeys, revokeApiKey } from './api-key.repo.ts';

/** The longest an API key may live: a forgotten key stops working by itself. */
export const MAX_API_KEY_LIFETIME_MS = 365 * 24 * 60 * 60_000;

/** Permissions about one's own session make no sense for a key. */
const NOT_FOR_KEYS = new Set<string>(['session:self', 'session:manage', 'mfa:enrol', 'mfa:verify']);

const apiKeyView = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  permissions: z.array(z.string()),
  assistantIds: z.array(z.uuid()).nullable(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
});

function present(key: ApiKey): z.infer<typeof apiKeyView> {
  return {
    id: key.id,
    name: key.name,
    prefix: `sk_${key.prefix}_…`,
    permissions: key.permissions,
    assistantIds: key.assistantIds,
    expiresAt: key.expiresAt?.toISOString() ?? null,
    lastUsedAt: key.lastUsedAt?.toISOString() ?? null,
    revokedAt: key.revokedAt?.toISOString() ?? null,
    createdAt: key.createdAt.toISOString(),
  };
}

export function registerApiKeyRoutes(app: FastifyInstance, { db }: { db: AppDb }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/v1/api-keys',
    {
      config: { permission: 'api-keys:create' },
      schema: {
        summary: 'Create an API key; its secret is in this answer only',
        tags: ['api-keys'],
        body: z.object({
          name: z.string().trim().min(1).max(100),
          permissions: z.array(z.string()).min(1).max(100),
          assistantIds: z.array(z.uuid()).max(100).optional(),
          /** Required: a key is a standing credential, so it must end (at most MAX_API_KEY_LIFETIME_MS ahead). */
          expiresAt: z.iso.datetime({ offset: true, error: 'required: an ISO 8601 date-time with offset, at most one year ahead' }),
        }),
        response: { 201: apiKeyView.extend({ key: z.string() }) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const body = request.body;
      // A key can never do more than its creator may do today (the authenticator re-checks at every use).
      const refused = body.permissions.filter((p) => !(p in permissions) || NOT_FOR_KEYS.has(p) || !roleMayGrant(principal.role, p as Permission));
      if (refused.length) {
        throw new AppError('validation_failed', 'Some permissions cannot be given to this key', { errors: refused.map((p) => ({ field: 'body.permissions', message: `${p}: unknown, or beyond what your role may delegate` })) });
      }
      const expiresAt = new Date(body.expiresAt);
      if (expiresAt <= new Date()) throw new AppError('validation_failed', 'The expiry is in the past', { errors: [{ field: 'body.expiresAt', message: 'must be in the future' }] });
      if (expiresAt.getTime() - Date.now() > MAX_API_KEY_LIFETIME_MS) {
        throw new AppError('validation_failed', 'An API key may live at most one year', { errors: [{ field: 'body.expiresAt', message: 'at most one year ahead' }] });
      }
      const context = requestContextOf(request);
      const { key, prefix, secretHash } = newApiKey();
      const row = await withTenant(db, principal, async (tx) => {
        const created = await insertApiKey(tx, principal, { name: body.name, prefix, secretHash, permissions: [...new Set(body.permissions)], assistantIds: body.assistantIds ?? null, createdBy: principal.userId!, expiresAt });
        await recordAuditEvent(tx, { ...auditActor(principal, context), organizationId: principal.organizationId, action: 'api_key.created', targetType: 'api_key', targetId: created.id, details: { name: created.name, prefix, permissions: created.permissions, expiresAt: body.expiresAt } });
        return created;
      });
      return reply.code(201).send({ ...present(row), key });
    },
  );

  r.get(
    '/api/v1/api-keys',
    { config: { permission: 'api-keys:read' }, schema: { summary: "The organisation's API keys (never their secrets)", tags: ['api-keys'], response: { 200: z.object({ apiKeys: z.array(apiKeyView) }) } } },
    async (request) => {
      const principal = principalOf(request);
      const rows = await withTenant(db, principal, (tx) => listApiKeys(tx, principal));
      return { apiKeys: rows.map(present) };
    },
  );

  r.delete(
    '/api/v1/api-keys/:apiKeyId',
    { config: { permission: 'api-keys:revoke' }, schema: { summary: 'Revoke an API key: the next request with it fails', tags: ['api-keys'], params: z.object({ apiKeyId: z.uuid({ error: 'expected an API key id (UUID)' }) }), response: { 204: z.null() } } },
    async (request, reply) => {
      const principal = principalOf(request);
      const context = requestContextOf(request);
      const found = await withTenant(db, principal, async (tx) => {
        const key = await findApiKey(tx, principal, request.params.apiKeyId);
        if (!key) return false;
        if (!key.revokedAt) {
          await revokeApiKey(tx, principal, key.id);
          await recordAuditEvent(tx, { ...auditActor(principal, context), organizationId: principal.organizationId, action: 'api_key.revoked', targetType: 'api_key', targetId: key.id, details: { name: key.name } });
        }
        return true;
      });
      if (!found) throw new AppError('not_found', 'No such API key');
      return reply.code(204).send(null);
    },
  );
}
