import { APIConnectionError, APIError, APIUserAbortError } from 'openai';

export type ProviderFailure =
  /** 429: the provider asks us to slow down. */
  | 'rate_limited'
  /** 5xx or a refused connection: the provider is failing. */
  | 'unavailable'
  /** No answer (or no next chunk) within the time allowed. */
  | 'timeout'
  /** The provider answered something that is not its protocol (malformed JSON, wrong shape). */
  | 'bad_response'
  /** 4xx other than 429: bad key, unknown model or deployment, bad request. Retrying will not help. */
  | 'rejected'
  /** The stream broke after text had been sent: the answer is incomplete. */
  | 'interrupted'
  /** Too many recent failures: calls are refused for a while without reaching the provider. */
  | 'circuit_open'
  /** The caller went away. */
  | 'aborted';

/** A provider call that failed, with what a person should be told. Never carries the credentials. */
export class ProviderError extends Error {
  override name = 'ProviderError';
  constructor(
    readonly failure: ProviderFailure,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number; providerMessage?: string } = {},
  ) {
    super(message);
  }

  get retryable(): boolean {
    return this.failure === 'rate_limited' || this.failure === 'unavailable' || this.failure === 'timeout' || this.failure === 'bad_response';
  }

  /** Counts against the circuit breaker: the provider itself is failing (not our request, not a 429). */
  get countsAsOutage(): boolean {
    return this.failure === 'unavailable' || this.failure === 'timeout' || this.failure === 'bad_response' || this.failure === 'interrupted';
  }
}

/** Bearer tokens and sk-style keys, whoever they belong to. */
const tokenPatterns = [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi, /\bsk-[A-Za-z0-9_-]{8,}/g, /\b(api[-_]?key|token|key)=([^\s&"']{6,})/gi];

/**
 * Removes the call's own key and anything shaped like a token from a provider's text: providers
 * quote the key they refused ("Incorrect API key provided: sk-..."), and that text is shown to
 * people, logged and audited.
 */
export function scrubSecrets(text: string, apiKey?: string): string {
  let scrubbed = text;
  if (apiKey && apiKey.length >= 4) {
    scrubbed = scrubbed.split(apiKey).join('[redacted]');
    // Keys are also quoted partly (without their prefix, or cut): any 12-character run of the key.
    if (apiKey.length > 16) {
      for (let start = 0; start + 12 <= apiKey.length; start++) scrubbed = scrubbed.split(apiKey.slice(start, start + 12)).join('[redacted]');
    }
  }
  scrubbed = scrubbed.replace(tokenPatterns[0] as RegExp, (_m, scheme: string) => `${scheme} [redacted]`);
  scrubbed = scrubbed.replace(tokenPatterns[1] as RegExp, '[redacted]');
  return scrubbed.replace(tokenPatterns[2] as RegExp, (_m, name: string) => `${name}=[redacted]`);
}

/** The same failure with its texts scrubbed of `apiKey` and token-like strings. */
export function scrubbedProviderError(error: ProviderError, apiKey?: string): ProviderError {
  const details = { ...error.details, ...(error.details.providerMessage ? { providerMessage: scrubSecrets(error.details.providerMessage, apiKey) } : {}) };
  const scrubbed = new ProviderError(error.failure, scrubSecrets(error.message, apiKey), details);
  if (!error.details.providerMessage) delete scrubbed.details.providerMessage;
  return scrubbed;
}

/**
 * Turns whatever the SDK or the network threw into a ProviderError; `label` names the provider
 * for people; `apiKey` (the call's key) is scrubbed from every text taken from the provider.
 */
export function toProviderError(error: unknown, label: string, abortReason?: unknown, apiKey?: string): ProviderError {
  if (error instanceof ProviderError) return error;
  if (abortReason instanceof ProviderError) return abortReason;
  return scrubbedProviderError(classify(error, label), apiKey);
}

function classify(error: unknown, label: string): ProviderError {
  if (error instanceof APIUserAbortError) return new ProviderError('aborted', `The call to ${label} was cancelled`);
  if (error instanceof APIError && typeof error.status === 'number') {
    const status = error.status;
    const providerMessage = providerMessageOf(error);
    const retryAfterMs = retryAfterMsOf(error.headers);
    if (status === 429) {
      return new ProviderError('rate_limited', `${label} is rate-limiting requests (429)${providerMessage ? `: ${providerMessage}` : ''}`, { status, retryAfterMs, providerMessage });
    }
    if (status >= 500) return new ProviderError('unavailable', `${label} failed (${status})${providerMessage ? `: ${providerMessage}` : ''}`, { status, retryAfterMs, providerMessage });
    return new ProviderError('rejected', `${label} refused the request (${status})${providerMessage ? `: ${providerMessage}` : ''}`, { status, providerMessage });
  }
  if (error instanceof APIConnectionError) {
    return new ProviderError('unavailable', `${label} could not be reached: ${causeMessage(error)}`);
  }
  if (error instanceof SyntaxError || /JSON/i.test(String((error as Error)?.message))) {
    return new ProviderError('bad_response', `${label} sent a malformed answer (${(error as Error).message})`);
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/terminated|socket|ECONNRESET|other side closed|premature close/i.test(message)) {
    return new ProviderError('unavailable', `${label} closed the connection: ${message}`);
  }
  return new ProviderError('bad_response', `${label} answered unexpectedly: ${message}`);
}

/** Retry-After in seconds or as an HTTP date, or OpenAI's retry-after-ms. */
export function retryAfterMsOf(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get('retry-after-ms');
  if (ms && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function providerMessageOf(error: APIError): string | undefined {
  const body = error.error as { message?: unknown } | undefined;
  const message = typeof body?.message === 'string' ? body.message : undefined;
  // Long provider bodies are cut: the message is shown to people and written to logs.
  return message ? message.slice(0, 300) : undefined;
}

function causeMessage(error: Error): string {
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}
