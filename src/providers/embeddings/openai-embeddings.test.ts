import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeProviderServer, embeddingsResponse, reply } from '../../../test/support/fake-provider-server.ts';
import type { ModelTarget } from '../llm/chat-types.ts';
import { LlmClient } from '../llm/llm-client.ts';
import { ProviderError } from '../llm/provider-error.ts';
import { OpenAiProtocolEmbeddings } from './openai-embeddings.ts';

describe('embeddings over the OpenAI protocol', () => {
  let server: FakeProviderServer;
  const client = () => new LlmClient({ firstTokenTimeoutMs: 2_000, retry: { baseDelayMs: 1, maxDelayMs: 2 }, privateEndpointCidrs: ['127.0.0.1/32'] });

  beforeEach(async () => {
    server = await FakeProviderServer.start();
  });
  afterEach(async () => {
    await server.close();
    expect(server.unexpected).toEqual([]);
    expect(server.pending).toBe(0);
  });

  it('embeds Mistral Embed in batches, in order, asking for floats', async () => {
    const target: ModelTarget = { key: 'cfg-m', label: 'Mistral AI', providerId: 'mistral', protocol: 'openai', model: 'mistral-embed', baseUrl: `${server.url}/v1`, apiKey: 'k' };
    const seen: unknown[] = [];
    const answer = (offset: number) => (req: Parameters<ReturnType<typeof reply.json>>[0], res: Parameters<ReturnType<typeof reply.json>>[1]) => {
      seen.push(req.body);
      const input = (req.body as { input: string[] }).input;
      // Out of order on purpose: the provider's `index` decides.
      const vectors = input.map((_, i) => [offset + i, 0, 0]);
      const body = embeddingsResponse(vectors) as { data: { index: number }[] };
      body.data.reverse();
      return reply.json(200, body)(req, res);
    };
    server.expect('POST', '/v1/embeddings', answer(0)).expect('POST', '/v1/embeddings', answer(2)).expect('POST', '/v1/embeddings', answer(4));
    const provider = new OpenAiProtocolEmbeddings(client(), target, 3, 2);
    expect(provider.modelKey).toBe('mistral:mistral-embed:3');
    const vectors = await provider.embed(['a', 'b', 'c', 'd', 'e']);
    expect(vectors.map((v) => v[0])).toEqual([0, 1, 2, 3, 4]);
    expect(seen).toEqual([
      { model: 'mistral-embed', input: ['a', 'b'], encoding_format: 'float' },
      { model: 'mistral-embed', input: ['c', 'd'], encoding_format: 'float' },
      { model: 'mistral-embed', input: ['e'], encoding_format: 'float' },
    ]);
  });

  it("embeds through an Azure deployment's URL with its api-version", async () => {
    server.expect('POST', '/openai/deployments/emb-small/embeddings?api-version=2024-10-21', reply.json(200, embeddingsResponse([[1, 2]])));
    const target: ModelTarget = { key: 'cfg-az', label: 'Azure OpenAI', providerId: 'azure-openai', protocol: 'azure-openai', model: 'text-embedding-3-small', apiKey: 'az', azure: { endpoint: server.url, deployment: 'emb-small', apiVersion: '2024-10-21' } };
    await expect(new OpenAiProtocolEmbeddings(client(), target, 2).embed(['x'])).resolves.toEqual([[1, 2]]);
    expect(server.requests[0]?.headers['api-key']).toBe('az');
  });

  it('retries a 429 and reports a dimension mismatch clearly', async () => {
    const target: ModelTarget = { key: 'cfg-o', label: 'OpenAI', providerId: 'openai', protocol: 'openai', model: 'text-embedding-3-small', baseUrl: `${server.url}/v1`, apiKey: 'k' };
    server.expect('POST', '/v1/embeddings', reply.json(429, { error: { message: 'slow down' } }, { 'retry-after-ms': '10' }));
    server.expect('POST', '/v1/embeddings', reply.json(200, embeddingsResponse([[1, 2, 3]])));
    const error = await new OpenAiProtocolEmbeddings(client(), target, 1536).embed(['x']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as Error).message).toBe('OpenAI returned 3-dimensional embeddings for text-embedding-3-small; the configuration expects 1536');
  });
});
