/** A model reachable through one provider configuration, with what the client needs to call it. */
export interface ModelTarget {
  /** The provider configuration id: circuit breakers and token usage are kept per configuration. */
  key: string;
  /** Names the provider for people, e.g. "Mistral AI (La Plateforme)". */
  label: string;
  providerId: string;
  protocol: 'openai' | 'azure-openai' | 'local';
  model: string;
  baseUrl?: string;
  apiKey?: string;
  azure?: { endpoint: string; deployment: string; apiVersion: string };
}

/** What an answer says about the model that gave it: never the credentials. */
export type AnsweringModel = Pick<ModelTarget, 'key' | 'providerId' | 'model' | 'label'>;

export function answeringModelOf(target: ModelTarget): AnsweringModel {
  return { key: target.key, providerId: target.providerId, model: target.model, label: target.label };
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A retrieved passage, for the local extractive answerer. */
export interface Passage {
  id: string;
  text: string;
  title?: string;
  pages?: number[];
}

export interface ChatRequest {
  messages: ChatMessage[];
  temperature?: number;
  maxOutputTokens?: number;
  signal?: AbortSignal;
  /** The passages retrieved for the question; the local provider answers from them alone. */
  passages?: Passage[];
}

export interface TokenCount {
  promptTokens: number;
  completionTokens: number;
  /** The provider did not report usage: counted from the text length. */
  estimated: boolean;
}

export type ChatEvent =
  | { type: 'delta'; text: string }
  | { type: 'done'; usage: TokenCount; target: AnsweringModel; usedFallback: boolean; finishReason: string | null };
