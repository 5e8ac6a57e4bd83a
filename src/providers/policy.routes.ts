import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../db/tenancy.ts';
import { principalOf } from '../http/route-access.ts';
import { actorOf } from './http-support.ts';
import { getDataPolicy, saveDataPolicy } from './policy/data-policy.repo.ts';
import type { ProvidersDeps } from './providers-deps.ts';

const policySchema = z.object({
  euOnly: z.boolean().describe('only providers that process data in the EU (or on this server)'),
  noTraining: z.boolean().describe('only providers that do not reuse data for training'),
  updatedAt: z.string().nullable().describe('null while the organisation runs on the defaults'),
});

export function registerPolicyRoutes(app: FastifyInstance, deps: ProvidersDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/v1/providers/policy',
    {
      config: { permission: 'providers:read' },
      schema: { summary: "The organisation's data policy (both switches are on for a new organisation)", tags: ['providers'], response: { 200: policySchema } },
    },
    async (request) => {
      const principal = principalOf(request);
      const policy = await withTenant(deps.db, principal, (tx) => getDataPolicy(tx, principal));
      return { euOnly: policy.euOnly, noTraining: policy.noTraining, updatedAt: policy.updatedAt?.toISOString() ?? null };
    },
  );

  r.put(
    '/api/v1/providers/policy',
    {
      config: { permission: 'policy:manage' },
      schema: {
        summary: "Set the organisation's data policy; calls to models it refuses are stopped from now on",
        tags: ['providers'],
        body: z.object({ euOnly: z.boolean(), noTraining: z.boolean() }).strict(),
        response: { 200: policySchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const saved = await withTenant(deps.db, principal, async (tx) => {
        const before = await getDataPolicy(tx, principal);
        const after = await saveDataPolicy(tx, principal, request.body);
        await deps.audit(tx, {
          organizationId: principal.organizationId,
          ...actorOf(principal),
          action: 'data_policy.updated',
          targetType: 'organization',
          targetId: principal.organizationId,
          outcome: 'success',
          details: { before: { euOnly: before.euOnly, noTraining: before.noTraining }, after: request.body },
        });
        return after;
      });
      return { euOnly: saved.euOnly, noTraining: saved.noTraining, updatedAt: saved.updatedAt.toISOString() };
    },
  );
}
