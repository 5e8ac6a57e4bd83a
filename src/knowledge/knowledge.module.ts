import type { FastifyInstance } from 'fastify';
import type { JobRunner } from '../ops/jobs/runner.ts';
import { CRAWL_JOB, crawlJobHandler } from './crawler/crawl.job.ts';
import { INGEST_JOB } from './ingest.service.ts';
import { ingestJobHandler } from './ingest.job.ts';
import { registerIngestRoutes } from './ingest.routes.ts';
import type { KnowledgeDeps } from './knowledge-deps.ts';
import { REEMBED_JOB, reembedJobHandler } from './reembed.job.ts';
import { registerSearchRoutes } from './search.routes.ts';
import { registerSourceRoutes } from './sources.routes.ts';

export function registerKnowledgeRoutes(app: FastifyInstance, deps: KnowledgeDeps): void {
  registerSourceRoutes(app, deps);
  registerIngestRoutes(app, deps);
  registerSearchRoutes(app, deps);
}

export function registerKnowledgeJobs(runner: JobRunner, deps: KnowledgeDeps): void {
  runner.register(INGEST_JOB, ingestJobHandler(deps));
  runner.register(REEMBED_JOB, reembedJobHandler(deps));
  runner.register(CRAWL_JOB, crawlJobHandler(deps));
}
