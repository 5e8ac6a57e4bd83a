import { ProviderError } from './provider-error.ts';

export interface RetryOptions {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the call fails at once with the provider's figure. */
  maxRetryAfterMs: number;
}

export const defaultRetryOptions: RetryOptions = { maxAttempts: 3, baseDelayMs: 250, maxDelayMs: 8_000, maxRetryAfterMs: 30_000 };

export interface RetryEvent {
  attempt: number;
  delayMs: number;
  error: ProviderError;
}

/**
 * The wait before the next attempt: "full jitter" exponential backoff (spreads clients that failed
 * together), never shorter than what the provider asked for with Retry-After.
 */
export function nextDelayMs(attempt: number, error: ProviderError, options: RetryOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.round(random() * ceiling);
  return Math.max(jittered, error.details.retryAfterMs ?? 0);
}

/** Whether to try again after `error` on attempt `attempt`; returns the delay, or undefined to give up. */
export function retryDecision(attempt: number, error: ProviderError, options: RetryOptions): number | undefined {
  if (!error.retryable || attempt >= options.maxAttempts) return undefined;
  if ((error.details.retryAfterMs ?? 0) > options.maxRetryAfterMs) return undefined;
  return nextDelayMs(attempt, error, options);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new ProviderError('aborted', 'The call was cancelled'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ProviderError('aborted', 'The call was cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
