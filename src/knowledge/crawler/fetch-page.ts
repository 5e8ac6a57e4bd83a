import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export const CRAWLER_USER_AGENT = 'SavoirBot/1.0 (+https://savoir.example/bot)';

export interface FetchOptions {
  timeoutMs: number;
  maxBytes: number;
  /** Loopback and private addresses are refused unless allowed (tests, on-premise intranets). */
  allowPrivateNetwork: boolean;
  signal?: AbortSignal;
}

export type FetchOutcome =
  | { kind: 'ok'; url: string; status: number; contentType: string; bytes: Buffer; truncated: boolean }
  | { kind: 'gone'; url: string; status: number }
  | { kind: 'error'; url: string; reason: string };

/**
 * GET with a timeout, a size cap, manual redirects kept on the same origin, and a refusal of
 * private addresses (the crawler must not become a way into the server's own network).
 */
export async function fetchPage(url: string, options: FetchOptions): Promise<FetchOutcome> {
  let current = new URL(url);
  for (let hop = 0; hop < 5; hop += 1) {
    if (!options.allowPrivateNetwork && (await isPrivateHost(current.hostname))) return { kind: 'error', url, reason: 'private network address refused' };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error('timeout')), options.timeoutMs);
    const abort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', abort);
    try {
      const response = await fetch(current, { redirect: 'manual', signal: controller.signal, headers: { 'user-agent': CRAWLER_USER_AGENT, accept: 'text/html,application/xhtml+xml,text/plain,application/xml;q=0.9,*/*;q=0.5' } });
      if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
        const next = new URL(response.headers.get('location') ?? '', current);
        await response.body?.cancel();
        if (next.origin !== current.origin) return { kind: 'error', url, reason: `redirect to another site (${next.origin}) not followed` };
        current = next;
        continue;
      }
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel();
        return { kind: 'gone', url, status: response.status };
      }
      if (!response.ok) {
        await response.body?.cancel();
        return { kind: 'error', url, reason: `HTTP ${response.status}` };
      }
      const { bytes, truncated } = await readCapped(response, options.maxBytes);
      return { kind: 'ok', url: current.toString(), status: response.status, contentType: response.headers.get('content-type') ?? '', bytes, truncated };
    } catch (error) {
      return { kind: 'error', url, reason: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
    }
  }
  return { kind: 'error', url, reason: 'too many redirects' };
}

async function readCapped(response: Response, maxBytes: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  if (!reader) return { bytes: Buffer.alloc(0), truncated: false };
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return { bytes: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(Buffer.from(value));
  }
  return { bytes: Buffer.concat(chunks), truncated: false };
}

async function isPrivateHost(hostname: string): Promise<boolean> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true }).catch(() => [])).map((entry) => entry.address);
  if (addresses.length === 0) return false;
  return addresses.some((address) =>
    /^(127\.|10\.|192\.168\.|169\.254\.|0\.|172\.(1[6-9]|2\d|3[01])\.)/.test(address) || address === '::1' || /^f[cd]/i.test(address) || /^fe80/i.test(address) || address.startsWith('::ffff:127.'),
  );
}
