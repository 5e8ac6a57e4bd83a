import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, testConfig, type TestApp } from '../../test/support/app.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.ts';
import { buildZip } from '../../test/support/knowledge-embedding.ts';
import { buildDocx, buildEncryptedPdf, buildPdf, multipartBody } from '../../test/support/knowledge-fixtures.ts';
import type { Role } from '../access/permissions.ts';
import { queryRows } from '../db/client.ts';
import { organizations } from '../db/schema/index.ts';
import { withUnscoped } from '../db/tenancy.ts';
import { JobRunner } from '../ops/jobs/runner.ts';
import { registerKnowledgeJobs } from './knowledge.module.ts';

const MAX_BYTES = 200_000;

describe('knowledge API: sources, uploads, documents, search', () => {
  let database: TestDatabase;
  let test: TestApp;
  let orgA: string;
  let orgB: string;
  let runner: JobRunner;
  const as = (organizationId: () => string, role: Role) => ({ 'x-test-org': organizationId(), 'x-test-role': role });
  const owner = () => as(() => orgA, 'owner');

  beforeAll(async () => {
    database = await createTestDatabase();
    const created = await withUnscoped(database.db, (tx) => tx.insert(organizations).values([{ name: 'A', slug: 'a' }, { name: 'B', slug: 'b' }]).returning());
    [orgA, orgB] = created.map((o) => o.id) as [string, string];
    test = await buildTestApp(database, {
      config: testConfig({ SAVOIR_UPLOAD_MAX_BYTES: String(MAX_BYTES) }),
      authenticators: [
        async (request) => {
          const org = request.headers['x-test-org'];
          const role = request.headers['x-test-role'];
          return typeof org === 'string' && typeof role === 'string' ? { organizationId: org, role: role as Role } : undefined;
        },
      ],
    });
    runner = new JobRunner(database.db, { concurrency: 1, leaseMs: 60_000 });
    registerKnowledgeJobs(runner, { db: database.db, maxFileBytes: MAX_BYTES });
  });
  afterAll(async () => {
    await test?.app.close();
    await database?.close();
  });

  async function createSource(name: string, headers = owner()) {
    const response = await test.app.inject({ method: 'POST', url: '/api/v1/data-sources', headers, payload: { name } });
    expect(response.statusCode).toBe(201);
    return response.json() as { id: string };
  }
  async function documentsOf(sourceId: string) {
    const response = await test.app.inject({ method: 'GET', url: `/api/v1/data-sources/${sourceId}/documents?limit=100`, headers: owner() });
    return (response.json() as { items: { id: string; key: string; status: string; failureReason: string | null; pages: number | null; mimeType: string | null; chunkCount: number; version: number }[] }).items;
  }
  async function chunksOf(documentId: string) {
    return withUnscoped(database.db, (tx) =>
      queryRows<{ text: string; heading_path: string[]; page_start: number | null; page_end: number | null }>(tx, sql`select text, heading_path, page_start, page_end from chunks where document_id = ${documentId} order by ordinal`),
    );
  }

  it('validates a source: name of at most 40 characters, web sources need a start URL', async () => {
    const tooLong = await test.app.inject({ method: 'POST', url: '/api/v1/data-sources', headers: owner(), payload: { name: 'x'.repeat(41) } });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.body).toContain('name');
    const web = await test.app.inject({ method: 'POST', url: '/api/v1/data-sources', headers: owner(), payload: { name: 'site', kind: 'web' } });
    expect(web.statusCode).toBe(400);
    expect(web.body).toContain('settings.startUrl');
    await createSource('dup');
    const duplicate = await test.app.inject({ method: 'POST', url: '/api/v1/data-sources', headers: owner(), payload: { name: 'dup' } });
    expect(duplicate.statusCode).toBe(409);
  });

  it('uploads PDF, DOCX, HTML and Markdown at once; chunks keep pages and headings', async () => {
    const source = await createSource('manuals');
    const pdf = await buildPdf([['Chapter one: installation of the pump.'], ['Maintenance: replace the filter every six months.']], { title: 'Pump manual' });
    const html = Buffer.from(`<!doctype html><html><head><title>Opening hours</title></head><body>
      <nav><a href="/">Home</a> <a href="/menu">Navigation menu entry</a></nav>
      <main><h1>Opening hours</h1><p>The library opens at nine every weekday.</p><h2>Weekends</h2><ul><li>Saturday until noon</li><li>Closed on Sunday</li></ul>
      <table><tr><th>Day</th><th>Hours</th></tr><tr><td>Monday</td><td>9-18</td></tr></table></main>
      <footer>Copyright footer text</footer></body></html>`);
    const markdown = Buffer.from('# Guide\n\nIntroduction text.\n\n## Installation\n\nRun the installer and reboot.\n\n- first step\n- second step\n');
    const { payload, headers } = multipartBody([
      { filename: 'manual.bin', bytes: pdf },
      { filename: 'handbook.docx', bytes: await buildDocx() },
      { filename: 'hours.txt', bytes: html, contentType: 'text/plain' },
      { filename: 'guide.md', bytes: markdown },
    ]);
    const upload = await test.app.inject({ method: 'POST', url: `/api/v1/data-sources/${source.id}/uploads`, headers: { ...headers, ...owner() }, payload });
    expect(upload.statusCode).toBe(202);
    const { jobId } = upload.json() as { jobId: string };
    await runner.drain();
    const job = await test.app.inject({ method: 'GET', url: `/api/v1/jobs/${jobId}`, headers: owner() });
    expect(job.json()).toMatchObject({ status: 'succeeded', progress: { done: 4, total: 4 } });

    const docs = await documentsOf(source.id);
    const byKey = new Map(docs.map((d) => [d.key, d]));
    expect(docs.every((d) => d.status === 'ready')).toBe(true);
    // Types come from the bytes: the PDF named .bin and the HTML named .txt.
    expect(byKey.get('manual.bin')?.mimeType).toBe('application/pdf');
    expect(byKey.get('hours.txt')?.mimeType).toBe('text/html');
    expect(byKey.get('manual.bin')?.pages).toBe(2);

    const pdfChunks = await chunksOf(byKey.get('manual.bin')?.id ?? '');
    expect(pdfChunks.map((c) => [c.page_start, c.page_end])).toEqual([[1, 2]]);
    expect(pdfChunks[0]?.text).toContain('replace the filter');

    const docxChunks = await chunksOf(byKey.get('handbook.docx')?.id ?? '');
    expect(docxChunks.map((c) => c.heading_path)).toEqual([
      ['Employee handbook', 'Holidays'],
      ['Employee handbook', 'Expenses'],
    ]);

    const htmlChunks = await chunksOf(byKey.get('hours.txt')?.id ?? '');
    const htmlText = htmlChunks.map((c) => c.text).join('\n');
    expect(htmlText).toContain('Saturday until noon');
    expect(htmlText).toContain('Monday | 9-18');
    expect(htmlText).not.toContain('Navigation menu entry');
    expect(htmlText).not.toContain('Copyright footer');
    expect(htmlChunks.map((c) => c.heading_path)).toContainEqual(['Opening hours', 'Weekends']);

    const mdChunks = await chunksOf(byKey.get('guide.md')?.id ?? '');
    expect(mdChunks.map((c) => c.heading_path)).toEqual([['Guide'], ['Guide', 'Installation']]);

    const search = await test.app.inject({ method: 'POST', url: '/api/v1/search', headers: as(() => orgA, 'member'), payload: { query: 'how often should the filter be replaced?', topK: 3 } });
    expect(search.statusCode).toBe(200);
    const [best] = (search.json() as { results: { text: string; pageStart: number; document: { title: string }; dataSource: { name: string }; retrievers: string[] }[] }).results;
    expect(best).toMatchObject({ pageStart: 1, document: { title: 'Pump manual' }, dataSource: { name: 'manuals' }, retrievers: ['lexical'] });
    expect(best?.text).toContain('filter');

    const counts = await test.app.inject({ method: 'GET', url: `/api/v1/data-sources/${source.id}`, headers: owner() });
    expect(counts.json()).toMatchObject({ documentCount: 4, chunkCount: 1 + 2 + htmlChunks.length + 2 });
    expect((counts.json() as { wordCount: number }).wordCount).toBeGreaterThan(40);
  });

  it('bad files fail one by one with a clear reason while the rest of the batch is indexed', async () => {
    const source = await createSource('mixed');
    const bomb = buildZip([
      { name: '[Content_Types].xml', data: Buffer.from('<Types/>') },
      { name: 'word/document.xml', data: Buffer.alloc(30 * 1024 * 1024) },
    ]);
    const liar = buildZip([{ name: 'word/document.xml', data: Buffer.alloc(5 * 1024 * 1024), declaredSize: 1000 }]);
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5e0b1e40000000049454e44ae426082', 'hex');
    const { payload, headers } = multipartBody([
      { filename: 'encrypted.pdf', bytes: await buildEncryptedPdf() },
      { filename: 'corrupt.pdf', bytes: Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from('garbage '.repeat(50))]) },
      { filename: 'empty.txt', bytes: Buffer.alloc(0) },
      { filename: 'bomb.docx', bytes: bomb },
      { filename: 'liar.docx', bytes: liar },
      { filename: 'huge.txt', bytes: Buffer.alloc(MAX_BYTES + 10, 'a') },
      { filename: 'image.pdf', bytes: png },
      { filename: 'good.txt', bytes: Buffer.from('A perfectly good note about tulips.') },
    ]);
    const upload = await test.app.inject({ method: 'POST', url: `/api/v1/data-sources/${source.id}/uploads`, headers: { ...headers, ...owner() }, payload });
    expect(upload.statusCode).toBe(202);
    await runner.drain();
    const reasons = Object.fromEntries((await documentsOf(source.id)).map((d) => [d.key, `${d.status}: ${d.failureReason ?? ''}`]));
    expect(reasons['good.txt']).toBe('ready: ');
    expect(reasons['encrypted.pdf']).toMatch(/^failed: .*encrypted/);
    expect(reasons['corrupt.pdf']).toMatch(/^failed: .*(corrupt|unreadable)/);
    expect(reasons['empty.txt']).toMatch(/^failed: .*empty/);
    expect(reasons['bomb.docx']).toMatch(/^failed: .*zip bomb/);
    expect(reasons['liar.docx']).toMatch(/^failed: .*zip bomb/);
    expect(reasons['huge.txt']).toMatch(/^failed: .*size limit/);
    expect(reasons['image.pdf']).toMatch(/^failed: .*unsupported file type image\/png/);
  });

  it('versions by content hash: same content changes nothing, new content replaces chunks, deletes remove them', async () => {
    const source = await createSource('versions');
    const push = (content: string) =>
      test.app.inject({ method: 'POST', url: `/api/v1/data-sources/${source.id}/documents`, headers: owner(), payload: { documents: [{ key: 'faq', title: 'FAQ', content }] } });
    const first = await push('Original answer about parking permits.');
    await runner.drain();
    const again = await push('Original answer about parking permits.');
    expect(again.json()).toMatchObject({ jobId: null, documents: [{ changed: false, version: 1 }] });
    const changed = await push('Revised answer about bicycle storage.');
    expect(changed.json()).toMatchObject({ documents: [{ changed: true, version: 2 }] });
    await runner.drain();
    const [doc] = await documentsOf(source.id);
    expect(doc).toMatchObject({ version: 2, status: 'ready', chunkCount: 1 });
    expect((await chunksOf(doc?.id ?? '')).map((c) => c.text)).toEqual(['Revised answer about bicycle storage.']);
    const search = async (query: string) =>
      (await test.app.inject({ method: 'POST', url: '/api/v1/search', headers: owner(), payload: { query, dataSourceIds: [source.id] } })).json() as { results: unknown[] };
    expect((await search('parking permits')).results).toHaveLength(0);
    expect((await search('bicycle')).results).toHaveLength(1);
    expect((first.json() as { documents: { id: string }[] }).documents[0]?.id).toBe(doc?.id);

    const deleted = await test.app.inject({ method: 'DELETE', url: `/api/v1/documents/${doc?.id}`, headers: owner() });
    expect(deleted.statusCode).toBe(204);
    const [left] = await withUnscoped(database.db, (tx) =>
      queryRows<{ chunks: number; terms: number; df: number }>(tx, sql`select (select count(*)::int from chunks where data_source_id = ${source.id}) as chunks, (select count(*)::int from chunk_terms where data_source_id = ${source.id}) as terms,
        (select coalesce(sum(document_frequency), 0)::int from term_stats where data_source_id = ${source.id}) as df`),
    );
    // Document frequencies went up with each version and back down to nothing with the deletion.
    expect(left).toEqual({ chunks: 0, terms: 0, df: 0 });
    const counters = (await test.app.inject({ method: 'GET', url: `/api/v1/data-sources/${source.id}`, headers: owner() })).json();
    expect(counters).toMatchObject({ documentCount: 0, chunkCount: 0, wordCount: 0 });
  });

  it('deleting a source removes its documents, chunks, postings, term statistics and vectors', async () => {
    const source = await createSource('to delete');
    await test.app.inject({ method: 'POST', url: `/api/v1/data-sources/${source.id}/documents`, headers: owner(), payload: { documents: [{ key: 'a', content: 'Alpha text about glaciers.' }, { key: 'b', content: 'Beta text about deserts.' }] } });
    await runner.drain();
    const count = async () =>
      (await withUnscoped(database.db, (tx) =>
        queryRows<{ n: number }>(tx, sql`select (select count(*) from documents where data_source_id = ${source.id}) + (select count(*) from chunks where data_source_id = ${source.id})
          + (select count(*) from chunk_terms where data_source_id = ${source.id}) + (select count(*) from term_stats where data_source_id = ${source.id})
          + (select count(*) from chunk_embeddings where data_source_id = ${source.id}) as n`),
      ))[0]?.n;
    expect(Number(await count())).toBeGreaterThan(4);
    const deleted = await test.app.inject({ method: 'DELETE', url: `/api/v1/data-sources/${source.id}`, headers: owner() });
    expect(deleted.statusCode).toBe(204);
    expect(Number(await count())).toBe(0);
    const again = await test.app.inject({ method: 'GET', url: `/api/v1/data-sources/${source.id}`, headers: owner() });
    expect(again.statusCode).toBe(404);
    // Both the creation and the deletion are in the organisation's audit log, with the source's id.
    const audited = await withUnscoped(database.db, (tx) =>
      queryRows<{ action: string; organization_id: string }>(tx, sql`select action, organization_id from audit_events where target_id = ${source.id} order by sequence`),
    );
    expect(audited).toEqual([
      { action: 'data_source.created', organization_id: orgA },
      { action: 'documents.submitted', organization_id: orgA },
      { action: 'data_source.deleted', organization_id: orgA },
    ]);
  });

  it('pre-chunked JSON push keeps the client’s chunks, headings and pages', async () => {
    const source = await createSource('prechunked');
    const response = await test.app.inject({
      method: 'POST',
      url: `/api/v1/data-sources/${source.id}/documents`,
      headers: owner(),
      payload: { documents: [{ key: 'contract-7', title: 'Contract', chunks: [{ text: 'Termination requires three months notice.', headingPath: ['Contract', 'Termination'], pageStart: 4 }, { text: 'Payment within 30 days.', pageStart: 5, pageEnd: 6 }] }] },
    });
    expect(response.statusCode).toBe(202);
    await runner.drain();
    const [doc] = await documentsOf(source.id);
    expect((await chunksOf(doc?.id ?? '')).map((c) => [c.heading_path, c.page_start, c.page_end])).toEqual([
      [['Contract', 'Termination'], 4, 4],
      [[], 5, 6],
    ]);
    const invalid = await test.app.inject({ method: 'POST', url: `/api/v1/data-sources/${source.id}/documents`, headers: owner(), payload: { documents: [{ key: 'x', content: 'a', chunks: [{ text: 'b' }] }] } });
    expect(invalid.statusCode).toBe(400);
  });

  it('documents every knowledge route in the OpenAPI description', async () => {
    const response = await test.app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(response.statusCode).toBe(200);
    const paths = Object.keys((response.json() as { paths: Record<string, unknown> }).paths);
    for (const route of ['/api/v1/data-sources', '/api/v1/data-sources/{id}/uploads', '/api/v1/data-sources/{id}/documents', '/api/v1/data-sources/{id}/sync', '/api/v1/search', '/api/v1/knowledge/embedding-model']) {
      expect(paths).toContain(route);
    }
  });

  it('another organisation’s source answers 404; roles follow the matrix', async () => {
    const source = await createSource('private');
    const fromB = await test.app.inject({ method: 'GET', url: `/api/v1/data-sources/${source.id}`, headers: as(() => orgB, 'owner') });
    expect(fromB.statusCode).toBe(404);
    const pushFromB = await test.app.inject({ method: 'POST', url: `/api/v1/data-sources/${source.id}/documents`, headers: as(() => orgB, 'owner'), payload: { documents: [{ key: 'k', content: 'x' }] } });
    expect(pushFromB.statusCode).toBe(404);
    const memberList = await test.app.inject({ method: 'GET', url: '/api/v1/data-sources', headers: as(() => orgA, 'member') });
    expect(memberList.statusCode).toBe(403);
    const analystCreate = await test.app.inject({ method: 'POST', url: '/api/v1/data-sources', headers: as(() => orgA, 'analyst'), payload: { name: 'nope' } });
    expect(analystCreate.statusCode).toBe(403);
    const anonymous = await test.app.inject({ method: 'POST', url: '/api/v1/search', payload: { query: 'x' } });
    expect(anonymous.statusCode).toBe(401);
    const searchB = await test.app.inject({ method: 'POST', url: '/api/v1/search', headers: as(() => orgB, 'member'), payload: { query: 'filter pump tulips' } });
    expect((searchB.json() as { results: unknown[] }).results).toHaveLength(0);
  });
});
