import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDb } from '../../db/client.ts';
import { withTenant } from '../../db/tenancy.ts';
import { AppError } from '../../http/errors.ts';
import { principalOf } from '../../http/route-access.ts';
import { findJob } from './jobs.repo.ts';

export const jobViewSchema = z.object({
  id: z.uuid(),
  kind: z.string(),
  status: z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']),
  attempts: z.number().int(),
  maxAttempts: z.number().int(),
  progress: z.object({ done: z.number().int(), total: z.number().int().nullable() }),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});

export function registerJobRoutes(app: FastifyInstance, db: AppDb): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/jobs/:jobId',
    {
      config: { permission: 'jobs:read' },
      schema: {
        summary: "A background job of the caller's organisation, with its progress",
        tags: ['jobs'],
        params: z.object({ jobId: z.uuid({ error: 'expected a job id (UUID)' }) }),
        response: { 200: jobViewSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const job = await withTenant(db, principal, (tx) => findJob(tx, principal, request.params.jobId));
      // Another organisation's job answers exactly like a missing one.
      if (!job) throw new AppError('not_found', 'No such job');
      return {
        id: job.id,
        kind: job.kind,
        status: job.status,
        attempts: job.attempts,
        maxAttempts: job.maxAttempts,
        progress: { done: job.progressDone, total: job.progressTotal },
        lastError: job.lastError,
        createdAt: job.createdAt.toISOString(),
        finishedAt: job.finishedAt?.toISOString() ?? null,
      };
    },
  );
}
