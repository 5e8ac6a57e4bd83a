import { ProviderError } from './provider-error.ts';

export interface CircuitBreakerOptions {
  /** Consecutive outage failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before letting one trial through. */
  cooldownMs: number;
}

export const defaultCircuitBreakerOptions: CircuitBreakerOptions = { failureThreshold: 5, cooldownMs: 30_000 };

/**
 * Per provider configuration: after repeated outages, calls fail at once (and go to the fallback
 * model if there is one) instead of making every user wait for timeouts. After the cooldown one
 * call is let through; its success closes the circuit.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;

  constructor(
    private readonly options: CircuitBreakerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.options.cooldownMs ? 'half-open' : 'open';
  }

  /** Throws when the circuit refuses the call. */
  enter(label: string): void {
    const state = this.state;
    if (state === 'closed') return;
    if (state === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return;
    }
    const retryInMs = Math.max(0, this.options.cooldownMs - (this.now() - (this.openedAt ?? 0)));
    throw new ProviderError('circuit_open', `${label} failed ${this.options.failureThreshold} times in a row; calls are paused for ${Math.ceil(retryInMs / 1000)} s`, { retryAfterMs: retryInMs });
  }

  succeeded(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
  }

  /** The call ended without an outcome (the consumer went away): frees the trial slot. */
  abandoned(): void {
    this.trialInFlight = false;
  }

  failed(error: ProviderError): void {
    if (!error.countsAsOutage) {
      this.trialInFlight = false;
      return;
    }
    this.failures += 1;
    if (this.trialInFlight || this.failures >= this.options.failureThreshold) this.openedAt = this.now();
    this.trialInFlight = false;
  }
}

/** One breaker per key (the provider configuration id), for the life of the process. */
export class CircuitBreakers {
  private readonly breakers = new Map<string, CircuitBreaker>();
  constructor(private readonly options: CircuitBreakerOptions = defaultCircuitBreakerOptions) {}

  for(key: string): CircuitBreaker {
    let breaker = this.breakers.get(key);
    if (!breaker) {
      breaker = new CircuitBreaker(this.options);
      this.breakers.set(key, breaker);
    }
    return breaker;
  }
}
