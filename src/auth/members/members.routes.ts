import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { organizationRoles } from '../../access/permissions.ts';
import type { Config } from '../../config/load.ts';
import type { AppDb } from '../../db/client.ts';
import { withTenant } from '../../db/tenancy.ts';
import { AppError } from '../../http/errors.ts';
import { principalOf } from '../../http/route-access.ts';
import { requestContextOf } from '../request-context.ts';
import { listMembers } from './members.repo.ts';
import { changeMemberRole, removeMember, resetMemberMfa } from './members.service.ts';

const memberParams = z.object({ membershipId: z.uuid({ error: 'expected a membership id (UUID)' }) });

export function registerMemberRoutes(app: FastifyInstance, { config, db }: { config: Config; db: AppDb }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/v1/members',
    {
      config: { permission: 'members:read' },
      schema: {
        summary: "The organisation's members and their roles",
        tags: ['members'],
        response: { 200: z.object({ members: z.array(z.object({ membershipId: z.uuid(), userId: z.uuid(), email: z.string(), role: z.enum(organizationRoles), status: z.string(), mfaEnrolled: z.boolean(), createdAt: z.string() })) }) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const rows = await withTenant(db, principal, (tx) => listMembers(tx, principal));
      return { members: rows.map((m) => ({ ...m, createdAt: m.createdAt.toISOString() })) };
    },
  );

  r.patch(
    '/api/v1/members/:membershipId',
    {
      config: { permission: 'members:change-role' },
      schema: { summary: "Change a member's role (needs a recent second factor)", tags: ['members'], params: memberParams, body: z.object({ role: z.enum(organizationRoles) }), response: { 204: z.null() } },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await withTenant(db, principal, (tx) => changeMemberRole(tx, principal, request.params.membershipId, request.body.role, requestContextOf(request)));
      return reply.code(204).send(null);
    },
  );

  r.delete(
    '/api/v1/members/:membershipId',
    { config: { permission: 'members:remove' }, schema: { summary: 'Remove a member: their sessions and API keys here stop working at once', tags: ['members'], params: memberParams, response: { 204: z.null() } } },
    async (request, reply) => {
      const principal = principalOf(request);
      await withTenant(db, principal, (tx) => removeMember(tx, principal, request.params.membershipId, requestContextOf(request)));
      return reply.code(204).send(null);
    },
  );

  r.post(
    '/api/v1/members/:membershipId/mfa-reset',
    { config: { permission: 'members:reset-mfa' }, schema: { summary: "Reset a member's second factors (needs a recent second factor)", tags: ['members'], params: memberParams, response: { 204: z.null() } } },
    async (request, reply) => {
      const principal = principalOf(request);
      // A refusal commits its audit event, then answers 403.
      const outcome = await withTenant(db, principal, (tx) => resetMemberMfa(tx, config, principal, request.params.membershipId, requestContextOf(request)));
      if (outcome === 'refused') {
        throw new AppError('forbidden', 'This person is a platform operator or administers another organisation: their factors can only be reset by the platform', { errors: [{ field: 'params.membershipId', message: 'privileged_elsewhere: a platform operator or an administrator of another organisation' }] });
      }
      return reply.code(204).send(null);
    },
  );
}
