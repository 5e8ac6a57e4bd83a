import type OpenAI from 'openai';
import { answeringModelOf, type ChatEvent, type ChatRequest, type ModelTarget, type TokenCount } from './chat-types.ts';
import { CircuitBreakers, defaultCircuitBreakerOptions, type CircuitBreakerOptions } from './circuit-breaker.ts';
import { streamExtractiveAnswer } from './local/extractive-answerer.ts';
import { ProviderError, toProviderError } from './provider-error.ts';
import { defaultRetryOptions, retryDecision, sleep, type RetryEvent, type RetryOptions } from './retry.ts';
import { guardedFetch } from './endpoint-guard.ts';
import { SdkClients } from './sdk-client.ts';

export interface LlmClientOptions {
  /** Longest wait for the provider's first chunk (or whole answer when not streaming). */
  firstTokenTimeoutMs?: number;
  /** Longest silence between two chunks of a stream. */
  idleTimeoutMs?: number;
  retry?: Partial<RetryOptions>;
  circuitBreaker?: Partial<CircuitBreakerOptions>;
  /** Private ranges provider endpoints may reach (SAVOIR_PROVIDER_PRIVATE_ENDPOINTS); public addresses only by default. */
  privateEndpointCidrs?: readonly string[];
  /** Called before each retry (logging, tests). */
  onRetry?: (event: RetryEvent & { target: ModelTarget }) => void;
}

/** Providers known to accept `stream_options.include_usage`; others (Mistral, some self-hosted servers) may reject unknown fields. */
const acceptsStreamUsageOption = new Set(['openai', 'azure-openai', 'scaleway', 'ovhcloud']);

/**
 * Savoir's client for chat models: the OpenAI SDK for every OpenAI-protocol provider and Azure,
 * the extractive answerer for the local provider. Streams deltas; retries with jittered backoff
 * before the first delta; a circuit breaker per configuration; an optional fallback target.
 */
export class LlmClient {
  readonly firstTokenTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly retry: RetryOptions;
  private readonly breakers: CircuitBreakers;
  private readonly sdk: SdkClients;

  constructor(private readonly options: LlmClientOptions = {}) {
    this.firstTokenTimeoutMs = options.firstTokenTimeoutMs ?? 30_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
    this.retry = { ...defaultRetryOptions, ...options.retry };
    this.breakers = new CircuitBreakers({ ...defaultCircuitBreakerOptions, ...options.circuitBreaker });
    this.sdk = new SdkClients(guardedFetch(options.privateEndpointCidrs ?? []));
  }

  sdkFor(target: ModelTarget): OpenAI {
    return this.sdk.for(target);
  }

  /** Streams the answer of `target`; if it fails before any text was sent, streams `fallback`'s instead. */
  async *streamChat(target: ModelTarget, request: ChatRequest, fallback?: ModelTarget): AsyncGenerator<ChatEvent> {
    const progress = { emitted: false };
    try {
      yield* this.streamWithRetries(target, request, progress, false);
    } catch (error) {
      const failure = toProviderError(error, target.label, undefined, target.apiKey);
      if (!fallback || progress.emitted || failure.failure === 'aborted') throw failure;
      yield* this.streamWithRetries(fallback, request, progress, true);
    }
  }

  /** The whole answer at once (non-streaming protocol call), with the same retries and breaker. */
  async complete(target: ModelTarget, request: ChatRequest): Promise<{ text: string; usage: TokenCount; finishReason: string | null }> {
    if (target.protocol === 'local') {
      let text = '';
      let usage: TokenCount = { promptTokens: 0, completionTokens: 0, estimated: true };
      for await (const event of streamExtractiveAnswer(target, request)) {
        if (event.type === 'delta') text += event.text;
        else usage = event.usage;
      }
      return { text, usage, finishReason: 'stop' };
    }
    return this.withResilience(target, request.signal, async (signal) => {
      const response = await this.sdk.for(target).chat.completions.create(
        { model: target.model, messages: request.messages, temperature: request.temperature, max_tokens: request.maxOutputTokens, stream: false },
        { signal },
      );
      const choice = response.choices?.[0];
      if (!choice || typeof choice.message?.content !== 'string') throw new ProviderError('bad_response', `${target.label} answered without a message`);
      const text = choice.message.content;
      return { text, usage: usageOf(response.usage, request, text), finishReason: choice.finish_reason ?? null };
    });
  }

  /** Runs one non-streaming call with a timeout, retries and the breaker. */
  async withResilience<T>(target: ModelTarget, callerSignal: AbortSignal | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const breaker = this.breakers.for(target.key);
    for (let attempt = 1; ; attempt++) {
      breaker.enter(target.label);
      const deadline = this.deadline(target, callerSignal);
      try {
        deadline.arm(this.firstTokenTimeoutMs, 'answer');
        const result = await call(deadline.signal);
        breaker.succeeded();
        return result;
      } catch (error) {
        const failure = toProviderError(error, target.label, deadline.signal.reason, target.apiKey);
        breaker.failed(failure);
        const delayMs = retryDecision(attempt, failure, this.retry);
        if (delayMs === undefined) throw failure;
        this.options.onRetry?.({ attempt, delayMs, error: failure, target });
        await sleep(delayMs, callerSignal);
      } finally {
        deadline.dispose();
      }
    }
  }

  private async *streamWithRetries(target: ModelTarget, request: ChatRequest, progress: { emitted: boolean }, usedFallback: boolean): AsyncGenerator<ChatEvent> {
    if (target.protocol === 'local') {
      for await (const event of streamExtractiveAnswer(target, request)) {
        if (event.type === 'delta') progress.emitted = true;
        yield event.type === 'done' ? { ...event, usedFallback } : event;
      }
      return;
    }
    const breaker = this.breakers.for(target.key);
    for (let attempt = 1; ; attempt++) {
      breaker.enter(target.label);
      // Settled once the breaker heard the outcome; a consumer that stops early (at `done`, or
      // mid-answer) never resumes this generator, so nothing may be left to do after a yield.
      let settled = false;
      try {
        for await (const event of this.streamOnce(target, request, progress, usedFallback)) {
          if (event.type === 'done') {
            breaker.succeeded();
            settled = true;
          }
          yield event;
        }
        if (!settled) breaker.succeeded();
        settled = true;
        return;
      } catch (error) {
        settled = true;
        let failure = toProviderError(error, target.label, undefined, target.apiKey);
        if (progress.emitted && failure.failure !== 'aborted') {
          failure = new ProviderError('interrupted', `${target.label} stopped in the middle of the answer (${failure.message}); the answer is incomplete`, failure.details);
        }
        breaker.failed(failure);
        const delayMs = progress.emitted ? undefined : retryDecision(attempt, failure, this.retry);
        if (delayMs === undefined) throw failure;
        this.options.onRetry?.({ attempt, delayMs, error: failure, target });
        await sleep(delayMs, request.signal);
      } finally {
        // Abandoned by the consumer before the outcome: neither success nor outage, but a
        // half-open trial must not hold the circuit forever.
        if (!settled) breaker.abandoned();
      }
    }
  }

  private async *streamOnce(target: ModelTarget, request: ChatRequest, progress: { emitted: boolean }, usedFallback: boolean): AsyncGenerator<ChatEvent> {
    const deadline = this.deadline(target, request.signal);
    try {
      deadline.arm(this.firstTokenTimeoutMs, 'first token');
      const stream = await this.sdk.for(target).chat.completions.create(
        {
          model: target.model,
          messages: request.messages,
          temperature: request.temperature,
          max_tokens: request.maxOutputTokens,
          stream: true,
          ...(acceptsStreamUsageOption.has(target.providerId) ? { stream_options: { include_usage: true } } : {}),
        },
        { signal: deadline.signal },
      );
      let text = '';
      let reported: { prompt_tokens?: number; completion_tokens?: number } | undefined;
      let finishReason: string | null = null;
      for await (const chunk of stream) {
        deadline.arm(this.idleTimeoutMs, 'next chunk');
        if (chunk.usage) reported = chunk.usage;
        const choice = chunk.choices?.[0];
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        const delta = choice?.delta?.content;
        if (delta) {
          text += delta;
          progress.emitted = true;
          yield { type: 'delta', text: delta };
        }
      }
      // The SDK ends the iteration quietly when aborted: our timeout or the caller's cancellation.
      if (deadline.signal.aborted) throw toProviderError(deadline.signal.reason, target.label, deadline.signal.reason, target.apiKey);
      if (!finishReason) throw new ProviderError('unavailable', `${target.label} ended the stream without finishing the answer`);
      yield { type: 'done', usage: usageOf(reported, request, text), target: answeringModelOf(target), usedFallback, finishReason };
    } catch (error) {
      throw toProviderError(error, target.label, deadline.signal.reason, target.apiKey);
    } finally {
      deadline.dispose();
    }
  }

  /** An abort signal for one attempt: the caller's cancellation, or our own timeout (re-armed per chunk). */
  private deadline(target: ModelTarget, callerSignal: AbortSignal | undefined) {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const onCallerAbort = () => controller.abort(new ProviderError('aborted', `The call to ${target.label} was cancelled`));
    if (callerSignal?.aborted) onCallerAbort();
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    return {
      signal: controller.signal,
      arm(ms: number, what: string) {
        clearTimeout(timer);
        timer = setTimeout(() => controller.abort(new ProviderError('timeout', `${target.label} sent no ${what} within ${ms} ms`)), ms);
      },
      dispose() {
        clearTimeout(timer);
        callerSignal?.removeEventListener('abort', onCallerAbort);
      },
    };
  }
}

function usageOf(reported: { prompt_tokens?: number; completion_tokens?: number } | null | undefined, request: ChatRequest, answer: string): TokenCount {
  if (reported && typeof reported.prompt_tokens === 'number' && typeof reported.completion_tokens === 'number') {
    return { promptTokens: reported.prompt_tokens, completionTokens: reported.completion_tokens, estimated: false };
  }
  return { promptTokens: estimateTokens(request.messages.map((m) => m.content).join('\n')), completionTokens: estimateTokens(answer), estimated: true };
}

/** About four characters per token in English and French: enough for a usage figure the provider did not give. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
