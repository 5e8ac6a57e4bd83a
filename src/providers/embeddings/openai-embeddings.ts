import type { ModelTarget } from '../llm/chat-types.ts';
import type { LlmClient } from '../llm/llm-client.ts';
import { ProviderError } from '../llm/provider-error.ts';
import type { EmbeddingProvider } from './embedding-provider.ts';

/** What a provider accepts in one embeddings request (Mistral's limit is the tightest of the seed providers). */
export const DEFAULT_EMBEDDING_BATCH_SIZE = 64;

/**
 * Embeddings over the OpenAI protocol (OpenAI, Azure deployments, Mistral Embed, Scaleway, OVHcloud,
 * self-hosted servers): batched, in order, with the client's retries, timeout and breaker. Asks for
 * `encoding_format: 'float'` explicitly: the SDK otherwise asks for base64, which not every
 * OpenAI-compatible server supports.
 */
export class OpenAiProtocolEmbeddings implements EmbeddingProvider {
  readonly modelKey: string;

  constructor(
    private readonly client: LlmClient,
    private readonly target: ModelTarget,
    readonly dimension: number,
    private readonly batchSize = DEFAULT_EMBEDDING_BATCH_SIZE,
  ) {
    this.modelKey = `${target.providerId}:${target.model}:${dimension}`;
  }

  async embed(texts: string[], options: { signal?: AbortSignal; purpose?: 'document' | 'query' } = {}): Promise<number[][]> {
    const vectors: number[][] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = texts.slice(start, start + this.batchSize);
      vectors.push(...(await this.embedBatch(batch, options.signal)));
    }
    return vectors;
  }

  private embedBatch(batch: string[], callerSignal: AbortSignal | undefined): Promise<number[][]> {
    const { label, model } = this.target;
    return this.client.withResilience(this.target, callerSignal, async (signal) => {
      const response = await this.client.sdkFor(this.target).embeddings.create({ model, input: batch, encoding_format: 'float' }, { signal });
      const data = Array.isArray(response?.data) ? response.data : undefined;
      if (!data || data.length !== batch.length) {
        throw new ProviderError('bad_response', `${label} returned ${data?.length ?? 'no'} embeddings for ${batch.length} texts`);
      }
      const ordered = [...data].sort((a, b) => a.index - b.index);
      return ordered.map((item) => {
        const vector = item.embedding as unknown;
        if (!Array.isArray(vector) || vector.some((v) => typeof v !== 'number')) throw new ProviderError('bad_response', `${label} returned an embedding that is not a list of numbers`);
        if (vector.length !== this.dimension) {
          throw new ProviderError('rejected', `${label} returned ${vector.length}-dimensional embeddings for ${model}; the configuration expects ${this.dimension}`);
        }
        return vector as number[];
      });
    });
  }
}
