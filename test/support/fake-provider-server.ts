import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

export type Responder = (request: RecordedRequest, response: ServerResponse) => void | Promise<void>;

interface Expectation {
  method: string;
  path: string;
  query?: Record<string, string>;
  respond: Responder;
}

/**
 * A provider on 127.0.0.1 speaking the OpenAI protocol (and Azure's and Mistral's flavours of it),
 * scripted call by call. Any call not expected, or in another order, is answered 418 and recorded
 * in `unexpected`: tests check that list is empty, so a stray call fails the test.
 */
export class FakeProviderServer {
  readonly requests: RecordedRequest[] = [];
  readonly unexpected: string[] = [];
  private readonly expectations: Expectation[] = [];
  private readonly sockets = new Set<Socket>();
  private server: http.Server | undefined;
  url = '';

  static async start(): Promise<FakeProviderServer> {
    const fake = new FakeProviderServer();
    await fake.listen();
    return fake;
  }

  expect(method: string, pathAndQuery: string, respond: Responder): this {
    const [path, query] = pathAndQuery.split('?') as [string, string | undefined];
    this.expectations.push({ method, path, query: query ? Object.fromEntries(new URLSearchParams(query)) : undefined, respond });
    return this;
  }

  get pending(): number {
    return this.expectations.length;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async listen(): Promise<void> {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // kept as text
    }
    const recorded: RecordedRequest = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body };
    this.requests.push(recorded);
    const next = this.expectations[0];
    const matches =
      next &&
      next.method === recorded.method &&
      next.path === recorded.path &&
      Object.entries(next.query ?? {}).every(([key, value]) => recorded.query.get(key) === value);
    if (!next || !matches) {
      this.unexpected.push(`${recorded.method} ${url.pathname}${url.search}`);
      res.writeHead(418, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'unexpected call to the fake provider' } }));
      return;
    }
    this.expectations.shift();
    await next.respond(recorded, res);
  }
}

export const reply = {
  json(status: number, body: unknown, headers: Record<string, string> = {}): Responder {
    return (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    };
  },
  /** A body that claims to be JSON and is not. */
  malformedJson(status = 200): Responder {
    return (_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"id": "chatcmpl-1", "choices": [');
    };
  },
  /** Server-sent events, each `data:` a JSON chunk, then `[DONE]`; `cutAfter` destroys the socket after that many events. */
  sse(events: unknown[], options: { cutAfter?: number; done?: boolean; rawEvents?: string[] } = {}): Responder {
    return async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      const lines = [...events.map((e) => JSON.stringify(e)), ...(options.rawEvents ?? [])];
      for (const [index, line] of lines.entries()) {
        if (options.cutAfter !== undefined && index >= options.cutAfter) {
          res.socket?.destroy();
          return;
        }
        res.write(`data: ${line}\n\n`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (options.done !== false) res.write('data: [DONE]\n\n');
      res.end();
    };
  },
  /** Accepts the request and never answers (until the server closes). */
  stall(): Responder {
    return () => undefined;
  },
  /** Starts a stream, sends `events`, then goes silent. */
  sseThenStall(events: unknown[]): Responder {
    return (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const event of events) res.write(`data: ${JSON.stringify(event)}\n\n`);
    };
  },
};

/** OpenAI chat.completion.chunk objects. */
export function chatChunk(content: string | null, finishReason: string | null = null, model = 'test-model'): unknown {
  return { id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [{ index: 0, delta: content === null ? {} : { content }, finish_reason: finishReason }] };
}

export function usageChunk(promptTokens: number, completionTokens: number, model = 'test-model'): unknown {
  return { id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } };
}

/** A streamed answer: the text in pieces, the finish, then usage. */
export function streamedAnswer(pieces: string[], usage?: [number, number]): unknown[] {
  return [...pieces.map((p) => chatChunk(p)), chatChunk(null, 'stop'), ...(usage ? [usageChunk(usage[0], usage[1])] : [])];
}

export function chatCompletion(content: string, usage: [number, number] = [5, 1], model = 'test-model'): unknown {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: usage[0], completion_tokens: usage[1], total_tokens: usage[0] + usage[1] },
  };
}

export function embeddingsResponse(vectors: number[][], model = 'test-embed'): unknown {
  return { object: 'list', model, data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })), usage: { prompt_tokens: vectors.length, total_tokens: vectors.length } };
}
