import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, type TestApp } from '../../../test/support/app.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/support/db.ts';
import { queryRows } from '../../db/client.ts';
import { organizations } from '../../db/schema/index.ts';
import { withUnscoped } from '../../db/tenancy.ts';
import { JobRunner } from '../../ops/jobs/runner.ts';
import { registerKnowledgeJobs } from '../knowledge.module.ts';

const page = (title: string, body: string, links: string[]) =>
  `<!doctype html><html><head><title>${title}</title></head><body><nav>${links.map((l) => `<a href="${l}">menu ${l}</a>`).join(' ')}</nav><main><h1>${title}</h1><p>${body}</p></main></body></html>`;

describe('web crawler data source against a local site', () => {
  let database: TestDatabase;
  let test: TestApp;
  let server: Server;
  let base: string;
  let orgId: string;
  const requests: string[] = [];
  const site = new Map<string, string>();

  beforeAll(async () => {
    server = createServer((request, response) => {
      requests.push(request.url ?? '');
      const body = site.get(request.url ?? '');
      if (body === undefined) {
        response.writeHead(404).end('not found');
        return;
      }
      response.writeHead(200, { 'content-type': request.url?.endsWith('.xml') || request.url === '/robots.txt' ? 'text/plain' : 'text/html; charset=utf-8' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    site.set('/robots.txt', `User-agent: *\nDisallow: /private\nSitemap: ${base}/sitemap.xml\n`);
    site.set('/sitemap.xml', `<?xml version="1.0"?><urlset><url><loc>${base}/orphan</loc></url></urlset>`);
    site.set('/', page('Home', 'Welcome to the municipal library website.', ['/a', '/b', '/private/secret', 'http://example.invalid/elsewhere']));
    site.set('/a', page('Opening hours', 'The library opens at nine.', ['/', '/c']));
    site.set('/b', page('Membership', 'Membership is free for residents.', ['/']));
    site.set('/c', page('Events', 'Reading club every Thursday.', ['/d']));
    site.set('/d', page('Too deep', 'Beyond the depth limit.', []));
    site.set('/orphan', page('Archive', 'Only the sitemap lists this archive page.', []));
    site.set('/private/secret', page('Secret', 'Robots say no.', []));

    database = await createTestDatabase();
    const [org] = await withUnscoped(database.db, (tx) => tx.insert(organizations).values({ name: 'Library', slug: 'library' }).returning());
    orgId = org?.id ?? '';
    test = await buildTestApp(database, { authenticators: [async () => ({ organizationId: orgId, role: 'owner' })] });
  });
  afterAll(async () => {
    await test?.app.close();
    await database?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  const runner = () => {
    const r = new JobRunner(database.db, { concurrency: 1, leaseMs: 60_000 });
    registerKnowledgeJobs(r, { db: database.db, maxFileBytes: 1_000_000, crawler: { allowPrivateNetwork: true, timeoutMs: 5_000 } });
    return r;
  };
  const documents = async () =>
    withUnscoped(database.db, (tx) =>
      queryRows<{ key: string; version: number; status: string; title: string; chunk_ids: string }>(tx, sql`
        select d.external_key as key, d.version, d.status, d.title, coalesce(string_agg(c.id::text, ',' order by c.ordinal), '') as chunk_ids
        from documents d left join chunks c on c.document_id = d.id group by d.id order by d.external_key`),
    );

  it('follows links and the sitemap on the same site, within depth, honouring robots.txt; re-crawls only changed pages and removes gone ones', async () => {
    const created = await test.app.inject({ method: 'POST', url: '/api/v1/data-sources', payload: { name: 'library site', kind: 'web', settings: { startUrl: `${base}/`, maxDepth: 2, maxPages: 50, requestDelayMs: 0 } } });
    expect(created.statusCode).toBe(201);
    const sourceId = (created.json() as { id: string }).id;
    await runner().drain();

    const first = await documents();
    expect(first.map((d) => d.key)).toEqual([`${base}/`, `${base}/a`, `${base}/b`, `${base}/c`, `${base}/orphan`]);
    expect(first.every((d) => d.status === 'ready')).toBe(true);
    expect(first.find((d) => d.key === `${base}/a`)?.title).toBe('Opening hours');
    expect(requests.some((r) => r.startsWith('/private'))).toBe(false);
    expect(requests).not.toContain('/d');

    const search = await test.app.inject({ method: 'POST', url: '/api/v1/search', payload: { query: 'when does the library open', topK: 1 } });
    expect((search.json() as { results: { document: { externalKey: string } }[] }).results[0]?.document.externalKey).toBe(`${base}/a`);

    // The site changes: one page edited, one removed (404) with its link.
    site.set('/a', page('Opening hours', 'The library now opens at ten.', ['/', '/c']));
    site.delete('/b');
    requests.length = 0;
    const sync = await test.app.inject({ method: 'POST', url: `/api/v1/data-sources/${sourceId}/sync` });
    expect(sync.statusCode).toBe(202);
    await runner().drain();

    const second = await documents();
    expect(second.map((d) => d.key)).toEqual([`${base}/`, `${base}/a`, `${base}/c`, `${base}/orphan`]);
    const byKey = (rows: typeof first, key: string) => rows.find((d) => d.key === `${base}${key}`);
    expect(byKey(second, '/a')?.version).toBe(2);
    // Unchanged pages kept their version and their very chunks: not re-indexed.
    for (const key of ['/', '/c', '/orphan']) {
      expect(byKey(second, key)?.version).toBe(1);
      expect(byKey(second, key)?.chunk_ids).toBe(byKey(first, key)?.chunk_ids);
    }
    const crawlJobs = await withUnscoped(database.db, (tx) =>
      queryRows<{ status: string; n: number }>(tx, sql`select status::text, count(*)::int as n from jobs where kind = 'knowledge.crawl' group by status order by status`),
    );
    // Two crawls ran; exactly one future crawl stays scheduled.
    expect(crawlJobs).toEqual([{ status: 'cancelled', n: 1 }, { status: 'queued', n: 1 }, { status: 'succeeded', n: 2 }]);
    const source = (await test.app.inject({ method: 'GET', url: `/api/v1/data-sources/${sourceId}` })).json();
    expect(source).toMatchObject({ status: 'idle', documentCount: 4 });
  });
});
