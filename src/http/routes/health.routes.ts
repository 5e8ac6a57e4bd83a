import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';

const readinessSchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.object({
    database: z.object({ ok: z.boolean(), detail: z.string() }),
    migrations: z.object({ ok: z.boolean(), detail: z.string() }),
  }),
});

export interface MigrationStatus {
  applied: number;
  expected: number;
}

/**
 * `migrations` is read once when the app is built (migrations run before): a public probe must
 * not open an owner connection per request, which anyone could use to exhaust the database.
 */
export function registerHealthRoutes(app: FastifyInstance, database: Database, migrations: MigrationStatus): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.get(
    '/healthz',
    {
      config: { public: true },
      schema: { summary: 'Liveness: the process answers', tags: ['health'], response: { 200: z.object({ status: z.literal('ok') }) } },
    },
    async () => ({ status: 'ok' as const }),
  );

  typed.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        summary: 'Readiness: the database is reachable and every migration is applied',
        tags: ['health'],
        response: { 200: readinessSchema, 503: readinessSchema },
      },
    },
    async (_request, reply) => {
      const checks = { database: { ok: false, detail: '' }, migrations: { ok: false, detail: '' } };
      try {
        await database.db.execute(sql`select 1`);
        checks.database = { ok: true, detail: 'reachable' };
        const ok = migrations.applied >= migrations.expected;
        checks.migrations = { ok, detail: ok ? 'up to date' : 'pending migrations' };
      } catch (error) {
        // Readiness reports the failure kind, never connection strings or credentials.
        checks.database.detail = `unreachable (${(error as { code?: string }).code ?? 'error'})`;
      }
      const ready = checks.database.ok && checks.migrations.ok;
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
    },
  );
}
