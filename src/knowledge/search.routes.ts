import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../http/route-access.ts';
import type { KnowledgeDeps } from './knowledge-deps.ts';
import { searchResultSchema } from './knowledge.presenters.ts';
import { changeEmbeddingModel } from './reembed.job.ts';
import { knowledgeActorOf } from './knowledge-audit.ts';
import { retrieveWithStatus } from './retriever.ts';

export function registerSearchRoutes(app: FastifyInstance, deps: KnowledgeDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/api/v1/search',
    {
      config: { permission: 'search:query' },
      schema: {
        summary: "Hybrid search (BM25 + vectors, fused by reciprocal rank) over the organisation's documents",
        tags: ['knowledge'],
        body: z.object({
          query: z.string().trim().min(1, 'a query is required').max(2000),
          topK: z.number().int().min(1).max(200).default(10),
          dataSourceIds: z.array(z.uuid()).max(100).optional(),
          documentIds: z.array(z.uuid()).max(1000).optional(),
          minScore: z.number().min(0).optional(),
        }),
        response: {
          200: z.object({
            results: z.array(searchResultSchema),
            vectorSearch: z.enum(['not_configured', 'used', 'unavailable']).describe('unavailable: the embedding provider failed or was too slow; the results are BM25 alone'),
          }),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const { query, topK, dataSourceIds, documentIds, minScore } = request.body;
      return retrieveWithStatus(deps, principal, { query, topK, minScore, filters: { dataSourceIds, documentIds } });
    },
  );

  r.put(
    '/api/v1/knowledge/embedding-model',
    {
      config: { permission: 'embeddings:manage' },
      schema: {
        summary: 'Choose the embedding model; vectors are rebuilt in the background and switched atomically when complete',
        tags: ['knowledge'],
        body: z.object({ modelKey: z.string().min(1).max(200) }),
        response: { 202: z.object({ jobId: z.uuid().nullable(), status: z.enum(['active', 'building']) }) },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const result = await changeEmbeddingModel(deps, principal, request.body.modelKey, knowledgeActorOf(request));
      return reply.status(202).send({ jobId: result.job?.id ?? null, status: result.status });
    },
  );
}
