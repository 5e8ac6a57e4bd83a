import { parseHTML } from 'linkedom';
import robotsParserModule from 'robots-parser';
import { CRAWLER_USER_AGENT, fetchPage, type FetchOptions } from './fetch-page.ts';

interface Robots {
  isAllowed(url: string, ua?: string): boolean | undefined;
  getCrawlDelay(ua?: string): number | undefined;
  getSitemaps(): string[];
}
// The package is CommonJS (module.exports = function); its typings describe an ES default export.
const robotsParser = robotsParserModule as unknown as (url: string, contents: string) => Robots;

export interface CrawlSettings {
  startUrl?: string;
  sitemapUrl?: string;
  maxDepth: number;
  maxPages: number;
  /** Minimum pause between two requests to the site; robots.txt Crawl-delay can only lengthen it. */
  requestDelayMs: number;
}

export interface CrawledPage {
  url: string;
  bytes: Buffer;
  truncated: boolean;
}

export interface CrawlResult {
  pages: CrawledPage[];
  /** URLs that answered 404 or 410. */
  gone: string[];
  /** True when every reachable page was visited (no page limit hit): unseen known pages are removed. */
  complete: boolean;
  refusedByRobots: string[];
  errors: { url: string; reason: string }[];
}

/**
 * Breadth-first crawl of one site: seeds from the start URL, the sitemap and the sitemaps named
 * by robots.txt; same origin only; robots.txt rules honoured; depth and page limits; a pause
 * between requests.
 */
export async function crawlSite(settings: CrawlSettings, fetchOptions: FetchOptions, sleep: (ms: number) => Promise<void>): Promise<CrawlResult> {
  const origin = new URL(settings.startUrl ?? settings.sitemapUrl ?? '').origin;
  const result: CrawlResult = { pages: [], gone: [], complete: true, refusedByRobots: [], errors: [] };
  let lastRequestAt = 0;
  const politely = async (url: string) => {
    const wait = lastRequestAt + delayMs - Date.now();
    if (lastRequestAt > 0 && wait > 0) await sleep(wait);
    lastRequestAt = Date.now();
    return fetchPage(url, fetchOptions);
  };
  let delayMs = settings.requestDelayMs;

  const robotsUrl = `${origin}/robots.txt`;
  const robotsResponse = await politely(robotsUrl);
  const robots = robotsParser(robotsUrl, robotsResponse.kind === 'ok' ? robotsResponse.bytes.toString('utf8') : '');
  const crawlDelaySeconds = robots.getCrawlDelay(CRAWLER_USER_AGENT);
  if (crawlDelaySeconds) delayMs = Math.max(delayMs, Math.min(crawlDelaySeconds, 60) * 1000);
  const allowed = (url: string) => robots.isAllowed(url, CRAWLER_USER_AGENT) !== false;

  const queue: { url: string; depth: number }[] = [];
  const seen = new Set<string>();
  const enqueue = (raw: string, depth: number) => {
    const url = normalise(raw, origin);
    if (!url || seen.has(url)) return;
    seen.add(url);
    if (!allowed(url)) {
      result.refusedByRobots.push(url);
      return;
    }
    queue.push({ url, depth });
  };
  if (settings.startUrl) enqueue(settings.startUrl, 0);
  for (const sitemap of new Set([...(settings.sitemapUrl ? [settings.sitemapUrl] : []), ...robots.getSitemaps()])) {
    if (normalise(sitemap, origin) === undefined) continue;
    const response = await politely(sitemap);
    if (response.kind !== 'ok') continue;
    for (const match of response.bytes.toString('utf8').matchAll(/<loc>\s*([^<\s]+)\s*<\/loc>/g)) enqueue(decodeXml(match[1] ?? ''), 0);
  }

  while (queue.length > 0) {
    if (result.pages.length >= settings.maxPages) {
      result.complete = false;
      break;
    }
    const { url, depth } = queue.shift() as { url: string; depth: number };
    const response = await politely(url);
    if (response.kind === 'gone') {
      result.gone.push(url);
      continue;
    }
    if (response.kind === 'error') {
      result.errors.push({ url, reason: response.reason });
      result.complete = false;
      continue;
    }
    result.pages.push({ url, bytes: response.bytes, truncated: response.truncated });
    if (depth >= settings.maxDepth || !/html/i.test(response.contentType)) continue;
    const { document } = parseHTML(response.bytes.toString('utf8'));
    for (const anchor of [...document.querySelectorAll('a[href]')]) {
      const rel = anchor.getAttribute('rel') ?? '';
      if (/nofollow/i.test(rel)) continue;
      enqueue(new URL(anchor.getAttribute('href') ?? '', url).toString(), depth + 1);
    }
  }
  return result;
}

/** Same-origin http(s) URL without fragment, or undefined. */
function normalise(raw: string, origin: string): string | undefined {
  try {
    const url = new URL(raw, origin);
    if (url.origin !== origin || !/^https?:$/.test(url.protocol)) return undefined;
    url.hash = '';
    return url.toString();
  } catch {
    return undefined;
  }
}

function decodeXml(text: string): string {
  return text.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'");
}
