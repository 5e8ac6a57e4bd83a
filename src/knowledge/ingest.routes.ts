import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../http/errors.ts';
import { principalOf } from '../http/route-access.ts';
import { submitDocuments, type SubmittedFile } from './ingest.service.ts';
import { knowledgeActorOf } from './knowledge-audit.ts';
import type { KnowledgeDeps } from './knowledge-deps.ts';
import { submissionViewSchema } from './knowledge.presenters.ts';
import { PRECHUNKED_FORMAT, prechunkedChunkSchema } from './prechunked.ts';

const MAX_FILES_PER_UPLOAD = 50;
const idParams = z.object({ id: z.uuid({ error: 'expected an id (UUID)' }) });

const pushedDocument = z
  .object({
    key: z.string().trim().min(1).max(2000),
    title: z.string().trim().min(1).max(500).optional(),
    /** Text, Markdown or HTML; its type is sniffed like an uploaded file's. */
    content: z.string().min(1).optional(),
    /** For clients who chunk themselves: indexed as given. */
    chunks: z.array(prechunkedChunkSchema).min(1).max(10_000).optional(),
    metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  })
  .refine((doc) => Boolean(doc.content) !== Boolean(doc.chunks), { message: 'give either content or chunks', path: ['content'] });

/** Upload (multipart, several files) and the JSON push API; both answer with the ingestion job. */
export function registerIngestRoutes(app: FastifyInstance, deps: KnowledgeDeps): void {
  const tags = ['knowledge'];
  app.withTypeProvider<ZodTypeProvider>().post(
    '/api/v1/data-sources/:id/documents',
    {
      config: { permission: 'sources:manage' },
      schema: {
        summary: 'Push documents as JSON (text, Markdown, HTML, or pre-chunked); re-pushing the same content changes nothing',
        tags,
        params: idParams,
        body: z.object({ documents: z.array(pushedDocument).min(1).max(1000) }),
        response: { 202: submissionViewSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const files: SubmittedFile[] = request.body.documents.map((doc) => ({
        key: doc.key,
        title: doc.title,
        bytes: doc.chunks ? Buffer.from(JSON.stringify({ chunks: doc.chunks })) : Buffer.from(doc.content ?? '', 'utf8'),
        metadata: { ...(doc.metadata ?? {}), ...(doc.chunks ? { format: PRECHUNKED_FORMAT } : {}) },
      }));
      const result = await submitDocuments(deps, principal, request.params.id, files, knowledgeActorOf(request));
      return reply.status(202).send({ jobId: result.job?.id ?? null, documents: result.documents });
    },
  );

  // Multipart parsing is confined to the upload route's scope.
  app.register(async (scope) => {
    await scope.register(multipart, { throwFileSizeLimit: false, limits: { fileSize: deps.maxFileBytes, files: MAX_FILES_PER_UPLOAD, fields: 10, parts: MAX_FILES_PER_UPLOAD + 10 } });
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/api/v1/data-sources/:id/uploads',
      {
        config: { permission: 'sources:manage' },
        schema: {
          summary: 'Upload files (multipart/form-data, several at once); types are sniffed from the bytes',
          tags,
          consumes: ['multipart/form-data'],
          params: idParams,
          response: { 202: submissionViewSchema },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        if (!request.isMultipart()) throw new AppError('unsupported_media_type', 'Expected multipart/form-data with one or more files');
        const files: SubmittedFile[] = [];
        for await (const part of request.parts()) {
          if (part.type !== 'file') continue;
          const bytes = await part.toBuffer();
          files.push({ key: part.filename || `upload-${files.length + 1}`, title: part.filename || undefined, bytes, truncated: part.file.truncated });
        }
        if (files.length === 0) throw new AppError('validation_failed', 'No file in the upload', { errors: [{ field: 'file', message: 'attach at least one file' }] });
        const result = await submitDocuments(deps, principal, request.params.id, files, knowledgeActorOf(request));
        return reply.status(202).send({ jobId: result.job?.id ?? null, documents: result.documents });
      },
    );
  });
}
