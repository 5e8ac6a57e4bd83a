import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { organizations } from '../src/db/schema/index.ts';
import { withUnscoped } from '../src/db/tenancy.ts';
import { registerKnowledgeJobs } from '../src/knowledge/knowledge.module.ts';
import { retrieveWithStatus } from '../src/knowledge/retriever.ts';
import { JobRunner } from '../src/ops/jobs/runner.ts';
import { organizationEmbeddingResolver } from '../src/providers/embeddings/organization-embeddings.ts';
import { createProvidersDeps } from '../src/providers/providers-deps.ts';
import { buildTestApp, testConfig } from './support/app.ts';
import { createTestDatabase, type TestDatabase } from './support/db.ts';
import { FakeProviderServer, embeddingsResponse, reply, type Responder } from './support/fake-provider-server.ts';
import { as, headerAuthenticator } from './support/principal.ts';

const DIMENSION = 768; // nomic-embed-text, as the catalogue states it

/** A server-side embedding: words hashed into 768 dimensions, so similar texts get close vectors. */
function embedText(text: string): number[] {
  const vector = new Array<number>(DIMENSION).fill(0);
  for (const word of text.toLowerCase().match(/\p{L}+/gu) ?? []) {
    vector[createHash('sha256').update(word).digest().readUInt16BE(0) % DIMENSION]! += 1;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

/** Answers an embeddings call with the vectors of the texts it was sent. */
const embeddingsOf: Responder = (request, response) => {
  const input = (request.body as { input: string | string[] }).input;
  return reply.json(200, embeddingsResponse((Array.isArray(input) ? input : [input]).map(embedText), 'nomic-embed-text'))(request, response);
};

describe('knowledge embedded through an organisation’s provider configuration', () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let server: FakeProviderServer;
  let runner: JobRunner;
  let orgId: string;
  let providers: ReturnType<typeof createProvidersDeps>;

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await FakeProviderServer.start();
    const [org] = await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: 'Lyon', slug: 'lyon' }).returning());
    orgId = org!.id;
    // The fake provider listens on 127.0.0.1: the operator allows that private range explicitly.
    const config = testConfig({ SAVOIR_PROVIDER_PRIVATE_ENDPOINTS: '127.0.0.1/32' });
    ({ app } = await buildTestApp(database, { config, authenticators: [headerAuthenticator] }));
    await app.ready();
    providers = createProvidersDeps({ config, db: database.db, logger: { warn: () => undefined } });
    runner = new JobRunner(database.db, { concurrency: 1, leaseMs: 60_000 });
    registerKnowledgeJobs(runner, { db: database.db, maxFileBytes: config.knowledge.maxFileBytes, resolveEmbeddingProvider: organizationEmbeddingResolver(providers) });
  });
  afterAll(async () => {
    await app.close();
    await server.close();
    await database.close();
  });

  it('indexes with the configured model and answers with vectors fused to BM25', async () => {
    const admin = as(orgId, 'admin');
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/providers/configs',
      headers: admin,
      payload: { providerId: 'openai-compatible', label: 'vLLM Lyon', apiKey: 'sk-lyon-SECRET-embeddings-01', endpoint: `${server.url}/v1`, statedRegion: 'eu' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const configId = created.json<{ id: string }>().id;

    const source = await app.inject({ method: 'POST', url: '/api/v1/data-sources', headers: admin, payload: { name: 'Délibérations' } });
    const sourceId = source.json<{ id: string }>().id;
    await app.inject({
      method: 'POST',
      url: `/api/v1/data-sources/${sourceId}/documents`,
      headers: admin,
      payload: { documents: [{ key: 'parcs', content: 'The city council opens the parks at night during the summer heat.' }, { key: 'bus', content: 'Bus lines twelve and forty change their timetable in September.' }] },
    });
    await runner.drain();

    server.expect('POST', '/v1/embeddings', embeddingsOf);
    const changed = await app.inject({ method: 'PUT', url: '/api/v1/knowledge/embedding-model', headers: admin, payload: { modelKey: `${configId}/nomic-embed-text` } });
    expect(changed.statusCode, changed.body).toBe(202);
    await runner.drain();
    expect(server.pending).toBe(0);
    const indexed = server.requests.at(-1);
    expect(indexed?.headers.authorization).toBe('Bearer sk-lyon-SECRET-embeddings-01');
    expect(indexed?.body).toMatchObject({ model: 'nomic-embed-text', encoding_format: 'float' });

    server.expect('POST', '/v1/embeddings', embeddingsOf);
    const search = await app.inject({ method: 'POST', url: '/api/v1/search', headers: as(orgId, 'member'), payload: { query: 'parks summer night', topK: 2 } });
    expect(search.statusCode, search.body).toBe(200);
    expect(search.json().vectorSearch).toBe('used');
    const [best] = search.json<{ results: { text: string; retrievers: string[] }[] }>().results;
    expect(best?.text).toContain('parks');
    expect(best?.retrievers).toEqual(['lexical', 'vector']);
    expect(server.unexpected).toEqual([]);
  });

  it('answers with BM25 alone, and says so, when the embedding provider stalls', async () => {
    server.expect('POST', '/v1/embeddings', reply.stall());
    const { results, vectorSearch } = await retrieveWithStatus(
      { db: database.db, maxFileBytes: 1024, resolveEmbeddingProvider: organizationEmbeddingResolver(providers), queryEmbeddingTimeoutMs: 300 },
      { organizationId: orgId },
      { query: 'bus timetable', topK: 3 },
    );
    expect(vectorSearch).toBe('unavailable');
    expect(results[0]?.text).toContain('Bus lines');
    expect(results[0]?.retrievers).toEqual(['lexical']);
    // The test's own time limit (below the provider client's 30 s first-token timeout) is the proof
    // that the search gave up at its deadline rather than waiting for the client to time out.
  }, 20_000);

  it('refuses a model key that names no configuration of the organisation', async () => {
    const response = await app.inject({ method: 'PUT', url: '/api/v1/knowledge/embedding-model', headers: as(orgId, 'admin'), payload: { modelKey: '00000000-0000-4000-8000-000000000000/nomic-embed-text' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([{ field: 'modelKey', message: 'no embedding model with this key is configured for the organisation' }]);
  });
});
