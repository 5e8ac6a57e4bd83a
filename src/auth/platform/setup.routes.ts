import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config/load.ts';
import type { AppDb } from '../../db/client.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { requestContextOf } from '../request-context.ts';
import { answerWithSession, sessionStateSchema } from '../sessions/session.routes.ts';
import { startSession } from '../sessions/session.service.ts';
import { completeSetupUnscoped } from './bootstrap.service.ts';

export function registerSetupRoutes(app: FastifyInstance, { config, db }: { config: Config; db: AppDb }): void {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/api/v1/auth/setup',
    {
      config: { public: true },
      schema: {
        summary: 'Create the first platform operator with the one-time setup link (`savoir bootstrap`)',
        tags: ['auth'],
        body: z.object({ token: z.string().min(20).max(200), email: z.email({ error: 'expected an e-mail address' }).max(320), password: z.string().min(1).max(1024) }),
        response: { 200: sessionStateSchema },
      },
    },
    async (request, reply) => {
      const context = requestContextOf(request);
      const session = await withUnscoped(db, async (tx) => {
        const userId = await completeSetupUnscoped(tx, request.body, context);
        return startSession(tx, config.sessions, { userId, organizationId: null, mfaVerifiedAt: null }, context);
      });
      return answerWithSession(db, reply, session);
    },
  );
}
