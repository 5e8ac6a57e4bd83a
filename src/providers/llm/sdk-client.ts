import { createHash } from 'node:crypto';
import OpenAI, { AzureOpenAI } from 'openai';
import type { ModelTarget } from './chat-types.ts';
import type { GuardedFetch } from './endpoint-guard.ts';

/**
 * One SDK client per target, reused across calls (keeps its HTTP connections alive). The SDK's
 * own retries are off: Savoir retries itself, to honour Retry-After, jitter, and the circuit breaker.
 */
export class SdkClients {
  private readonly clients = new Map<string, OpenAI>();

  /** `fetch` is the guarded one (no private addresses, no redirects): every provider call goes through it. */
  constructor(private readonly fetch: GuardedFetch) {}

  for(target: ModelTarget): OpenAI {
    const cacheKey = [target.key, target.baseUrl, target.azure?.endpoint, target.azure?.deployment, target.azure?.apiVersion, hashOf(target.apiKey)].join('|');
    let client = this.clients.get(cacheKey);
    if (!client) {
      client = create(target, this.fetch);
      this.clients.set(cacheKey, client);
    }
    return client;
  }
}

function create(target: ModelTarget, fetch: GuardedFetch): OpenAI {
  // An explicit key always: the SDK would otherwise read OPENAI_API_KEY from the environment.
  const apiKey = target.apiKey ?? 'none';
  // Timeouts are Savoir's (first token, idle between chunks); this is only a backstop.
  const common = { apiKey, maxRetries: 0, timeout: 10 * 60_000, fetch };
  if (target.protocol === 'azure-openai') {
    if (!target.azure) throw new Error(`${target.label}: an Azure configuration needs an endpoint, a deployment and an API version`);
    return new AzureOpenAI({ ...common, endpoint: target.azure.endpoint, deployment: target.azure.deployment, apiVersion: target.azure.apiVersion });
  }
  if (!target.baseUrl) throw new Error(`${target.label}: no base URL configured`);
  return new OpenAI({ ...common, baseURL: target.baseUrl });
}

function hashOf(value: string | undefined): string {
  return value ? createHash('sha256').update(value).digest('hex').slice(0, 16) : '';
}
