import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { withTenant } from '../db/tenancy.ts';
import { auditKnowledgeChange, knowledgeActorOf } from './knowledge-audit.ts';
import { AppError } from '../http/errors.ts';
import { principalOf } from '../http/route-access.ts';
import { enqueueCrawl } from './crawler/crawl.job.ts';
import { deleteDocumentAndChunks } from './index.repo.ts';
import { findDocument, listDocuments } from './documents.repo.ts';
import type { KnowledgeDeps } from './knowledge-deps.ts';
import { dataSourceViewSchema, documentViewSchema, presentDataSource, presentDocument } from './knowledge.presenters.ts';
import { deleteDataSource, findDataSource, insertDataSource, listDataSources, updateDataSource } from './sources.repo.ts';

const sourceName = z.string().trim().min(1, 'a name is required').max(40, 'at most 40 characters');
const webSettings = z.object({
  startUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  sitemapUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  maxDepth: z.number().int().min(0).max(10).optional(),
  maxPages: z.number().int().min(1).max(100_000).optional(),
  recrawlIntervalHours: z.number().int().min(1).max(24 * 365).optional(),
  requestDelayMs: z.number().int().min(0).max(60_000).optional(),
});
const idParams = z.object({ id: z.uuid({ error: 'expected an id (UUID)' }) });

/** Data sources (CRUD) and their documents (list, read, delete). */
export function registerSourceRoutes(app: FastifyInstance, deps: KnowledgeDeps): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['knowledge'];

  r.get('/api/v1/data-sources', { config: { permission: 'sources:read' }, schema: { summary: 'Data sources of the organisation', tags, response: { 200: z.object({ items: z.array(dataSourceViewSchema) }) } } }, async (request) => {
    const principal = principalOf(request);
    const rows = await withTenant(deps.db, principal, (tx) => listDataSources(tx, principal));
    return { items: rows.map(presentDataSource) };
  });

  r.post(
    '/api/v1/data-sources',
    {
      config: { permission: 'sources:manage' },
      schema: {
        summary: 'Create a data source (manual uploads, or a web crawler)',
        tags,
        body: z.object({ name: sourceName, description: z.string().max(2000).default(''), kind: z.enum(['manual', 'web']).default('manual'), settings: webSettings.default({}) }),
        response: { 201: dataSourceViewSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const body = request.body;
      if (body.kind === 'web' && !body.settings.startUrl && !body.settings.sitemapUrl) {
        throw new AppError('validation_failed', 'A web source needs a start URL or a sitemap', { errors: [{ field: 'settings.startUrl', message: 'give startUrl or sitemapUrl' }] });
      }
      const created = await withTenant(deps.db, principal, async (tx) => {
        const source = await insertDataSource(tx, principal, body);
        if (source) await auditKnowledgeChange(tx, principal, knowledgeActorOf(request), { action: 'data_source.created', targetType: 'data_source', targetId: source.id, details: { name: source.name, kind: source.kind } });
        // A web source starts its first crawl at once; later crawls are scheduled by each crawl.
        if (source?.kind === 'web') await enqueueCrawl(tx, principal, source.id);
        return source;
      });
      if (!created) throw new AppError('conflict', 'A data source with this name already exists', { errors: [{ field: 'name', message: 'already used' }] });
      return reply.status(201).send(presentDataSource(created));
    },
  );

  r.get('/api/v1/data-sources/:id', { config: { permission: 'sources:read' }, schema: { summary: 'A data source with its counts', tags, params: idParams, response: { 200: dataSourceViewSchema } } }, async (request) => {
    const principal = principalOf(request);
    const source = await withTenant(deps.db, principal, (tx) => findDataSource(tx, principal, request.params.id));
    if (!source) throw new AppError('not_found', 'No such data source');
    return presentDataSource(source);
  });

  r.patch(
    '/api/v1/data-sources/:id',
    {
      config: { permission: 'sources:manage' },
      schema: { summary: 'Rename or describe a data source', tags, params: idParams, body: z.object({ name: sourceName.optional(), description: z.string().max(2000).optional(), settings: webSettings.optional() }), response: { 200: dataSourceViewSchema } },
    },
    async (request) => {
      const principal = principalOf(request);
      try {
        const updated = await withTenant(deps.db, principal, async (tx) => {
          const changed = await updateDataSource(tx, principal, request.params.id, request.body);
          if (changed) await auditKnowledgeChange(tx, principal, knowledgeActorOf(request), { action: 'data_source.updated', targetType: 'data_source', targetId: changed.id, details: { fields: Object.keys(request.body) } });
          return changed;
        });
        if (!updated) throw new AppError('not_found', 'No such data source');
        return presentDataSource(updated);
      } catch (error) {
        if (/data_sources_org_name_unique/.test(String((error as { cause?: unknown }).cause ?? error))) {
          throw new AppError('conflict', 'A data source with this name already exists', { errors: [{ field: 'name', message: 'already used' }] });
        }
        throw error;
      }
    },
  );

  r.delete('/api/v1/data-sources/:id', { config: { permission: 'sources:manage' }, schema: { summary: 'Delete a data source with its documents, chunks and vectors', tags, params: idParams, response: { 204: z.null() } } }, async (request, reply) => {
    const principal = principalOf(request);
    const deleted = await withTenant(deps.db, principal, async (tx) => {
      const done = await deleteDataSource(tx, principal, request.params.id);
      if (done) await auditKnowledgeChange(tx, principal, knowledgeActorOf(request), { action: 'data_source.deleted', targetType: 'data_source', targetId: request.params.id });
      return done;
    });
    if (!deleted) throw new AppError('not_found', 'No such data source');
    return reply.status(204).send(null);
  });

  r.post(
    '/api/v1/data-sources/:id/sync',
    { config: { permission: 'sources:manage' }, schema: { summary: 'Crawl a web source now (only changed pages are re-indexed)', tags, params: idParams, response: { 202: z.object({ jobId: z.uuid() }) } } },
    async (request, reply) => {
      const principal = principalOf(request);
      const job = await withTenant(deps.db, principal, async (tx) => {
        const source = await findDataSource(tx, principal, request.params.id);
        if (!source) throw new AppError('not_found', 'No such data source');
        if (source.kind !== 'web') throw new AppError('conflict', 'Only web sources are synchronised; upload or push documents to a manual source');
        await auditKnowledgeChange(tx, principal, knowledgeActorOf(request), { action: 'data_source.sync_requested', targetType: 'data_source', targetId: source.id });
        return (await enqueueCrawl(tx, principal, source.id)).job;
      });
      return reply.status(202).send({ jobId: job.id });
    },
  );

  r.get(
    '/api/v1/data-sources/:id/documents',
    {
      config: { permission: 'sources:read' },
      schema: {
        summary: 'Documents of a data source, newest first',
        tags,
        params: idParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50), offset: z.coerce.number().int().min(0).default(0) }),
        response: { 200: z.object({ items: z.array(documentViewSchema) }) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const rows = await withTenant(deps.db, principal, async (tx) => {
        if (!(await findDataSource(tx, principal, request.params.id))) throw new AppError('not_found', 'No such data source');
        return listDocuments(tx, principal, request.params.id, request.query);
      });
      return { items: rows.map(presentDocument) };
    },
  );

  r.get('/api/v1/documents/:id', { config: { permission: 'sources:read' }, schema: { summary: 'A document with its processing status', tags, params: idParams, response: { 200: documentViewSchema } } }, async (request) => {
    const principal = principalOf(request);
    const document = await withTenant(deps.db, principal, (tx) => findDocument(tx, principal, request.params.id));
    if (!document) throw new AppError('not_found', 'No such document');
    return presentDocument(document);
  });

  r.delete('/api/v1/documents/:id', { config: { permission: 'sources:manage' }, schema: { summary: 'Delete a document with its chunks and vectors', tags, params: idParams, response: { 204: z.null() } } }, async (request, reply) => {
    const principal = principalOf(request);
    const deleted = await withTenant(deps.db, principal, async (tx) => {
      const done = await deleteDocumentAndChunks(tx, principal, request.params.id);
      if (done) await auditKnowledgeChange(tx, principal, knowledgeActorOf(request), { action: 'document.deleted', targetType: 'document', targetId: request.params.id });
      return done;
    });
    if (!deleted) throw new AppError('not_found', 'No such document');
    return reply.status(204).send(null);
  });
}
