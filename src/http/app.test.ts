import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { buildTestApp, type LogCapture } from '../../test/support/app.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import type { Role } from '../access/permissions.ts';
import { organizations } from '../db/schema/index.ts';
import { withTenant, withUnscoped } from '../db/tenancy.ts';
import { enqueueJob } from '../ops/jobs/jobs.repo.ts';
import { createLogger } from './logger.ts';
import type { Authenticator } from './route-access.ts';

/** Identity comes from the identity room; here a header names the caller, for the foundation's checks. */
const headerAuthenticator: Authenticator = async (request) => {
  const value = request.headers['x-test-principal'];
  if (typeof value !== 'string') return undefined;
  const [organizationId, role] = value.split(':') as [string, Role];
  return { organizationId, role };
};

describe('HTTP foundation', () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let logs: LogCapture;
  let orgA: string;
  let orgB: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ app, logs } = await buildTestApp(database, { authenticators: [headerAuthenticator] }));
    const typed = app.withTypeProvider<ZodTypeProvider>();
    typed.post('/test/echo', { config: { public: true }, schema: { body: z.object({ name: z.string().min(2), tags: z.array(z.string()).max(2) }) } }, async (request) => request.body);
    typed.get('/test/explode', { config: { public: true } }, async () => {
      throw new Error('secret internals: password=hunter2');
    });
    await app.ready();
    const created = await withUnscoped(database.db, (tx) =>
      tx.insert(organizations).values([{ name: 'A', slug: 'a' }, { name: 'B', slug: 'b' }]).returning(),
    );
    [orgA, orgB] = created.map((o) => o.id) as [string, string];
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  it('answers /healthz with a request id', async () => {
    const response = await app.inject({ method: 'GET', url: '/healthz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps a well-formed incoming request id and replaces a malformed one', async () => {
    const kept = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'trace-42.abc' } });
    expect(kept.headers['x-request-id']).toBe('trace-42.abc');
    const replaced = await app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(replaced.headers['x-request-id']).not.toBe('bad id\twith spaces');
  });

  it('is ready when the database answers and every migration is applied', async () => {
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ready', checks: { database: { ok: true }, migrations: { ok: true } } });
  });

  it('sends the security headers on every response, refusals included', async () => {
    for (const url of ['/healthz', '/api/v1/jobs/00000000-0000-0000-0000-000000000000', '/nowhere']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(response.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
    }
  });

  it('answers an unknown route with a problem document', async () => {
    const response = await app.inject({ method: 'GET', url: '/nowhere?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 404, code: 'not_found', detail: 'No route GET /nowhere' });
  });

  it('names the field at fault in a 400', async () => {
    const response = await app.inject({ method: 'POST', url: '/test/echo', payload: { name: 'x', tags: ['a', 'b', 'c'] } });
    expect(response.statusCode).toBe(400);
    const problem = response.json();
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors.map((e: { field: string }) => e.field).sort()).toEqual(['body.name', 'body.tags']);
    expect(problem.requestId).toBe(response.headers['x-request-id']);
  });

  it('refuses malformed JSON and bodies over the limit with problem documents', async () => {
    const malformed = await app.inject({ method: 'POST', url: '/test/echo', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('bad_request');
    const huge = await app.inject({ method: 'POST', url: '/test/echo', payload: { name: 'x'.repeat(2 * 1024 * 1024), tags: [] } });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().code).toBe('payload_too_large');
  });

  it('turns an unexpected error into a 500 with a request id and nothing internal', async () => {
    const response = await app.inject({ method: 'GET', url: '/test/explode' });
    expect(response.statusCode).toBe(500);
    const problem = response.json();
    expect(problem).toMatchObject({ code: 'internal', requestId: response.headers['x-request-id'] });
    expect(response.body).not.toContain('hunter2');
    expect(response.body).not.toContain('at ');
    expect(logs.text).toContain('unhandled error'); // the operator still gets the detail, by request id
  });

  it('reads a job with its progress, for its own organisation only', async () => {
    const { job } = await withTenant(database.db, { organizationId: orgA }, (tx) => enqueueJob(tx, orgA, { kind: 'ingest' }));
    const own = await app.inject({ method: 'GET', url: `/api/v1/jobs/${job.id}`, headers: { 'x-test-principal': `${orgA}:editor` } });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ id: job.id, status: 'queued', progress: { done: 0, total: null } });
    const foreign = await app.inject({ method: 'GET', url: `/api/v1/jobs/${job.id}`, headers: { 'x-test-principal': `${orgB}:owner` } });
    expect(foreign.statusCode).toBe(404);
    const anonymous = await app.inject({ method: 'GET', url: `/api/v1/jobs/${job.id}` });
    expect(anonymous.statusCode).toBe(401);
    const memberRole = await app.inject({ method: 'GET', url: `/api/v1/jobs/${job.id}`, headers: { 'x-test-principal': `${orgA}:member` } });
    expect(memberRole.statusCode).toBe(403);
    const badId = await app.inject({ method: 'GET', url: '/api/v1/jobs/not-a-uuid', headers: { 'x-test-principal': `${orgA}:editor` } });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().errors).toEqual([{ field: 'params.jobId', message: 'expected a job id (UUID)' }]);
  });

  it('serves an OpenAPI document generated from the route schemas', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/healthz', '/readyz', '/api/v1/jobs/{jobId}']));
    expect(document.paths['/api/v1/jobs/{jobId}'].get.responses['200']).toBeDefined();
  });

  it('refuses to start with a route that declares neither a permission nor public', async () => {
    const { app: other } = await buildTestApp(database);
    expect(() => other.get('/undeclared', async () => 'open')).toThrow('route GET /undeclared must declare exactly one of config.permission or config.public');
    await other.close();
  });
});

describe('logging', () => {
  it('redacts secrets wherever they appear', async () => {
    const { LogCapture } = await import('../../test/support/app.ts');
    const sink = new LogCapture();
    const logger = createLogger({ logLevel: 'info' }, sink);
    logger.info({ password: 'pw-hunter2', user: { apiKey: 'sk_live_123', name: 'ana' }, req: { headers: { authorization: 'Bearer tok-456', cookie: 'sid=789' } } }, 'attempt');
    logger.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sink.text).toContain('ana');
    for (const secret of ['pw-hunter2', 'sk_live_123', 'tok-456', 'sid=789']) expect(sink.text).not.toContain(secret);
  });
});
