/**
 * What the knowledge room needs from an embedding model. Implemented by the providers room
 * (OpenAI-protocol, Azure, Mistral, local ONNX); the knowledge room only calls it.
 */
export interface EmbeddingProvider {
  /** Stable id of the model configuration, stored beside each vector so a model change is detectable. */
  readonly modelKey: string;
  readonly dimension: number;
  /** Embeds texts in order; implementations batch and retry as their provider requires. */
  embed(texts: string[], options?: { signal?: AbortSignal; purpose?: 'document' | 'query' }): Promise<number[][]>;
}
