import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer, chatChunk, chatCompletion, reply, streamedAnswer } from '../../../test/support/fake-provider-server.ts';
import type { ChatEvent, ChatRequest, ModelTarget } from './chat-types.ts';
import { LlmClient, type LlmClientOptions } from './llm-client.ts';
import { ProviderError } from './provider-error.ts';
import type { RetryEvent } from './retry.ts';

const question: ChatRequest = { messages: [{ role: 'user', content: 'Bonjour ?' }] };

async function collect(events: AsyncIterable<ChatEvent>): Promise<{ text: string; done?: Extract<ChatEvent, { type: 'done' }>; error?: ProviderError }> {
  let text = '';
  try {
    for await (const event of events) {
      if (event.type === 'delta') text += event.text;
      else return { text, done: event };
    }
    return { text };
  } catch (error) {
    return { text, error: error as ProviderError };
  }
}

describe('LLM client against real protocol peers', () => {
  let server: FakeProviderServer;
  let retries: RetryEvent[];
  const client = (options: LlmClientOptions = {}) =>
    new LlmClient({ firstTokenTimeoutMs: 2_000, idleTimeoutMs: 2_000, retry: { baseDelayMs: 1, maxDelayMs: 5 }, onRetry: (e) => retries.push(e), privateEndpointCidrs: ['127.0.0.1/32'], ...options });
  const openai = (key = 'cfg-openai'): ModelTarget => ({ key, label: 'OpenAI', providerId: 'openai', protocol: 'openai', model: 'gpt-4o-mini', baseUrl: `${server.url}/v1`, apiKey: 'sk-test-123' });

  beforeEach(async () => {
    server = await FakeProviderServer.start();
    retries = [];
  });
  afterEach(async () => {
    await server.close();
    expect(server.unexpected).toEqual([]);
    expect(server.pending).toBe(0);
  });

  it('streams an OpenAI answer delta by delta, with the usage the provider reported', async () => {
    server.expect('POST', '/v1/chat/completions', reply.sse(streamedAnswer(['Bon', 'jour', ' !'], [12, 3])));
    const deltas: string[] = [];
    let done: ChatEvent | undefined;
    for await (const event of client().streamChat(openai(), question)) {
      if (event.type === 'delta') deltas.push(event.text);
      else done = event;
    }
    expect(deltas).toEqual(['Bon', 'jour', ' !']);
    expect(done).toMatchObject({ type: 'done', usage: { promptTokens: 12, completionTokens: 3, estimated: false }, finishReason: 'stop', usedFallback: false });
    // The event names the model that answered, never its credentials (events travel to routes, logs, clients).
    expect((done as Extract<ChatEvent, { type: 'done' }>).target).toEqual({ key: 'cfg-openai', providerId: 'openai', model: 'gpt-4o-mini', label: 'OpenAI' });
    expect(JSON.stringify(done)).not.toContain('sk-test-123');
    const [sent] = server.requests;
    expect(sent?.headers.authorization).toBe('Bearer sk-test-123');
    expect(sent?.body).toMatchObject({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Bonjour ?' }] });
  });

  it('answers without streaming too', async () => {
    server.expect('POST', '/v1/chat/completions', reply.json(200, chatCompletion('Oui.', [7, 2])));
    await expect(client().complete(openai(), question)).resolves.toEqual({ text: 'Oui.', usage: { promptTokens: 7, completionTokens: 2, estimated: false }, finishReason: 'stop' });
    expect(server.requests[0]?.body).toMatchObject({ stream: false });
  });

  it("calls Azure OpenAI on the deployment's URL with the api-version and the api-key header", async () => {
    server.expect('POST', '/openai/deployments/my-gpt4o/chat/completions?api-version=2024-10-21', reply.sse(streamedAnswer(['Azure'], [3, 1])));
    const target: ModelTarget = {
      key: 'cfg-azure',
      label: 'Azure OpenAI',
      providerId: 'azure-openai',
      protocol: 'azure-openai',
      model: 'gpt-4o',
      apiKey: 'azure-key-456',
      azure: { endpoint: server.url, deployment: 'my-gpt4o', apiVersion: '2024-10-21' },
    };
    const result = await collect(client().streamChat(target, question));
    expect(result).toMatchObject({ text: 'Azure', done: { usage: { promptTokens: 3 } } });
    expect(server.requests[0]?.headers['api-key']).toBe('azure-key-456');
  });

  it("speaks Mistral's API: no OpenAI-only fields (Mistral answers 422 to extra inputs), usage from its last chunk", async () => {
    server.expect('POST', '/v1/chat/completions', (req, res) => {
      const body = req.body as Record<string, unknown>;
      if ('stream_options' in body) {
        res.writeHead(422, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'error', message: 'Extra inputs are not permitted', type: 'invalid_request_error' }));
        return;
      }
      const last = { ...(chatChunk(null, 'stop') as object), usage: { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13 } };
      return reply.sse([chatChunk('Salut'), last])(req, res);
    });
    const target: ModelTarget = { key: 'cfg-mistral', label: 'Mistral AI', providerId: 'mistral', protocol: 'openai', model: 'mistral-small-latest', baseUrl: `${server.url}/v1`, apiKey: 'm-key' };
    const result = await collect(client().streamChat(target, question));
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({ text: 'Salut', done: { usage: { promptTokens: 9, completionTokens: 4, estimated: false } } });
  });

  it('waits as long as Retry-After says on a 429, then answers', async () => {
    server.expect('POST', '/v1/chat/completions', reply.json(429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '1' }));
    server.expect('POST', '/v1/chat/completions', reply.sse(streamedAnswer(['ok'], [1, 1])));
    const result = await collect(client().streamChat(openai(), question));
    expect(result.text).toBe('ok');
    expect(retries).toHaveLength(1);
    expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(1_000);
    expect(retries[0]?.error.failure).toBe('rate_limited');
  });

  it('does not wait for a Retry-After beyond the limit: a clear rate-limit error at once', async () => {
    server.expect('POST', '/v1/chat/completions', reply.json(429, { error: { message: 'Quota exceeded' } }, { 'retry-after': '3600' }));
    const result = await collect(client().streamChat(openai(), question));
    expect(result.error).toBeInstanceOf(ProviderError);
    expect(result.error?.failure).toBe('rate_limited');
    expect(result.error?.message).toMatch(/OpenAI is rate-limiting requests \(429\): Quota exceeded/);
    expect(result.error?.details.retryAfterMs).toBe(3_600_000);
    expect(retries).toHaveLength(0);
  });

  it('retries a 500 with backoff and gives a clear error once attempts are spent', async () => {
    for (let i = 0; i < 3; i++) server.expect('POST', '/v1/chat/completions', reply.json(500, { error: { message: 'upstream exploded' } }));
    const result = await collect(client().streamChat(openai(), question));
    expect(result.error?.failure).toBe('unavailable');
    expect(result.error?.message).toBe('OpenAI failed (500): upstream exploded');
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    for (const retry of retries) expect(retry.delayMs).toBeLessThanOrEqual(5);
  });

  it('a stalled provider times out instead of hanging, and is retried', async () => {
    server.expect('POST', '/v1/chat/completions', reply.stall());
    server.expect('POST', '/v1/chat/completions', reply.stall());
    const result = await collect(client({ firstTokenTimeoutMs: 150, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } }).streamChat(openai(), question));
    expect(result.error?.failure).toBe('timeout');
    expect(result.error?.message).toBe('OpenAI sent no first token within 150 ms');
    expect(retries).toHaveLength(1);
  });

  it('a stream that goes silent mid-answer ends with a clear "incomplete" error, keeping the text already sent', async () => {
    server.expect('POST', '/v1/chat/completions', reply.sseThenStall([chatChunk('La réponse '), chatChunk('est')]));
    const result = await collect(client({ idleTimeoutMs: 150 }).streamChat(openai(), question));
    expect(result.text).toBe('La réponse est');
    expect(result.error?.failure).toBe('interrupted');
    expect(result.error?.message).toMatch(/stopped in the middle of the answer .*no next chunk within 150 ms.*incomplete/);
    expect(retries).toHaveLength(0);
  });

  it('a connection cut mid-stream is reported as an incomplete answer, not retried (text was already shown)', async () => {
    server.expect('POST', '/v1/chat/completions', reply.sse(streamedAnswer(['Première ', 'partie', ' et la suite']), { cutAfter: 2 }));
    const result = await collect(client().streamChat(openai(), question));
    expect(result.text).toBe('Première partie');
    expect(result.error?.failure).toBe('interrupted');
  });

  it('a connection cut before any text is retried transparently', async () => {
    server.expect('POST', '/v1/chat/completions', reply.sse(streamedAnswer(['x']), { cutAfter: 0 }));
    server.expect('POST', '/v1/chat/completions', reply.sse(streamedAnswer(['retried'], [1, 1])));
    const result = await collect(client().streamChat(openai(), question));
    expect(result).toMatchObject({ text: 'retried', done: { type: 'done' } });
    expect(retries).toHaveLength(1);
  });

  it('malformed JSON is a clear "malformed answer" error, after retrying', async () => {
    server.expect('POST', '/v1/chat/completions', reply.malformedJson());
    server.expect('POST', '/v1/chat/completions', reply.malformedJson());
    const failing = client({ retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    const error = await failing.complete(openai(), question).catch((e: unknown) => e as ProviderError);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).failure).toBe('bad_response');
    expect((error as ProviderError).message).toMatch(/^OpenAI sent a malformed answer/);
  });

  it('a malformed event in a stream is a clear error too', async () => {
    server.expect('POST', '/v1/chat/completions', reply.sse([], { rawEvents: ['{"choices": [{"delta": {"content": "oops"'] }));
    const result = await collect(client({ retry: { maxAttempts: 1 } }).streamChat(openai(), question));
    expect(result.error?.failure).toBe('bad_response');
    expect(result.error?.message).toMatch(/malformed/);
  });

  it('refuses without retrying when the provider rejects the key, with its message', async () => {
    server.expect('POST', '/v1/chat/completions', reply.json(401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }));
    const result = await collect(client().streamChat(openai(), question));
    expect(result.error?.failure).toBe('rejected');
    expect(result.error?.message).toBe('OpenAI refused the request (401): Incorrect API key provided');
    expect(retries).toHaveLength(0);
  });

  it('falls back to the fallback model when the primary fails before answering', async () => {
    server.expect('POST', '/v1/chat/completions', reply.json(503, { error: { message: 'overloaded' } }));
    server.expect('POST', '/v2/chat/completions', reply.sse(streamedAnswer(['secours'], [2, 1])));
    const fallback: ModelTarget = { ...openai('cfg-fallback'), label: 'Fallback', baseUrl: `${server.url}/v2`, model: 'mistral-small-latest' };
    const result = await collect(client({ retry: { maxAttempts: 1 } }).streamChat(openai(), question, fallback));
    expect(result).toMatchObject({ text: 'secours', done: { usedFallback: true, target: { key: 'cfg-fallback' } } });
  });

  it('opens the circuit after repeated outages: the next call fails at once without reaching the provider', async () => {
    server.expect('POST', '/v1/chat/completions', reply.json(500, {}));
    server.expect('POST', '/v1/chat/completions', reply.json(500, {}));
    const breaking = client({ retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000 } });
    expect((await collect(breaking.streamChat(openai(), question))).error?.failure).toBe('unavailable');
    expect((await collect(breaking.streamChat(openai(), question))).error?.failure).toBe('unavailable');
    const third = await collect(breaking.streamChat(openai(), question));
    expect(third.error?.failure).toBe('circuit_open');
    expect(third.error?.message).toMatch(/OpenAI failed 2 times in a row; calls are paused for 60 s/);
    expect(server.requests).toHaveLength(2);
    // Another configuration has its own breaker.
    server.expect('POST', '/v1/chat/completions', reply.sse(streamedAnswer(['fine'], [1, 1])));
    expect((await collect(breaking.streamChat(openai('cfg-other'), question))).text).toBe('fine');
  });

  it('a half-open trial that succeeds closes the circuit even when the consumer stops at done; an abandoned trial frees the circuit', async () => {
    const breaking = client({ retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 1, cooldownMs: 0 } });
    // One outage opens the circuit; with no cooldown the next call is the half-open trial.
    server.expect('POST', '/v1/chat/completions', reply.json(500, {}));
    expect((await collect(breaking.streamChat(openai(), question))).error?.failure).toBe('unavailable');
    // The trial succeeds; the consumer breaks out of the loop at `done` (as a chat route does).
    server.expect('POST', '/v1/chat/completions', reply.sse(streamedAnswer(['ok'], [1, 1])));
    for await (const event of breaking.streamChat(openai(), question)) {
      if (event.type === 'done') break;
    }
    // Closed: two calls at once both reach the provider (a half-open circuit lets only one through).
    server.expect('POST', '/v1/chat/completions', reply.sse(streamedAnswer(['a', 'b'], [1, 1])));
    server.expect('POST', '/v1/chat/completions', reply.sse(streamedAnswer(['c'], [1, 1])));
    const first = breaking.streamChat(openai(), question);
    const second = breaking.streamChat(openai(), question);
    expect(await first.next()).toMatchObject({ value: { type: 'delta', text: 'a' } });
    expect((await collect(second)).text).toBe('c');
    await first.return(undefined);

    // Open it again, then abandon the trial after its first delta: the next call is let through.
    server.expect('POST', '/v1/chat/completions', reply.json(500, {}));
    expect((await collect(breaking.streamChat(openai(), question))).error?.failure).toBe('unavailable');
    server.expect('POST', '/v1/chat/completions', reply.sse(streamedAnswer(['x', 'y'], [1, 1])));
    const abandoned = breaking.streamChat(openai(), question);
    expect(await abandoned.next()).toMatchObject({ value: { type: 'delta', text: 'x' } });
    await abandoned.return(undefined);
    server.expect('POST', '/v1/chat/completions', reply.sse(streamedAnswer(['again'], [1, 1])));
    expect((await collect(breaking.streamChat(openai(), question))).text).toBe('again');
  });

  it('scrubs the key a failing provider echoes before the error reaches retries, logs or callers', async () => {
    const target = openai();
    const body = { error: { message: `upstream saw key ${target.apiKey} and Authorization: Bearer ${target.apiKey}` } };
    server.expect('POST', '/v1/chat/completions', reply.json(500, body));
    server.expect('POST', '/v1/chat/completions', reply.json(500, body));
    const result = await collect(client({ retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } }).streamChat(target, question));
    expect(result.error?.failure).toBe('unavailable');
    expect(retries).toHaveLength(1);
    for (const error of [result.error, retries[0]?.error]) {
      expect(error?.message).toMatch(/upstream saw key \[redacted\]/);
      expect(JSON.stringify({ message: error?.message, details: error?.details })).not.toContain('sk-test-123');
    }
    server.expect('POST', '/v1/chat/completions', reply.json(400, body));
    const refused = (await client().complete(target, question).catch((e: unknown) => e)) as ProviderError;
    expect(refused.message).not.toContain('sk-test-123');
    expect(refused.details.providerMessage).not.toContain('sk-test-123');
  });

  it('refuses loopback and private endpoints unless the operator allows them, by address or by name, and follows no redirect', async () => {
    const closed = client({ privateEndpointCidrs: [], retry: { maxAttempts: 1 } });
    const byAddress = await closed.complete(openai(), question).catch((e: unknown) => e as ProviderError);
    expect(byAddress).toMatchObject({ failure: 'unavailable' });
    const byName = await closed.complete({ ...openai(), baseUrl: server.url.replace('127.0.0.1', 'localhost') + '/v1' }, question).catch((e: unknown) => e as ProviderError);
    expect(byName).toMatchObject({ failure: 'unavailable' });
    const metadata = await closed.complete({ ...openai(), baseUrl: 'http://[::ffff:169.254.169.254]/v1' }, question).catch((e: unknown) => e as ProviderError);
    expect(metadata).toMatchObject({ failure: 'unavailable' });
    expect(server.requests).toHaveLength(0);

    // Allowed, but a redirect (towards a path the endpoint did not name) is not followed.
    server.expect('POST', '/v1/chat/completions', reply.json(307, {}, { location: `${server.url}/inner/chat/completions` }));
    const redirected = await client({ retry: { maxAttempts: 1 } }).complete(openai(), question).catch((e: unknown) => e as ProviderError);
    expect(redirected).toBeInstanceOf(ProviderError);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/chat/completions']);
  });

  it('stops when the caller cancels', async () => {
    server.expect('POST', '/v1/chat/completions', reply.stall());
    const controller = new AbortController();
    // Cancel once the provider holds the request (a fixed delay races the request on a busy machine).
    const watcher = setInterval(() => {
      if (server.requests.length > 0) controller.abort();
    }, 5);
    const result = await collect(client().streamChat(openai(), { ...question, signal: controller.signal })).finally(() => clearInterval(watcher));
    expect(result.error?.failure).toBe('aborted');
    expect(retries).toHaveLength(0);
  });
});
