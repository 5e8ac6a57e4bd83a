import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker.ts';
import { ProviderError, retryAfterMsOf } from './provider-error.ts';
import { nextDelayMs, retryDecision } from './retry.ts';

const outage = new ProviderError('unavailable', 'down');
const options = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 };

describe('retry decisions', () => {
  it('backs off with full jitter, never below what Retry-After asked', () => {
    expect(nextDelayMs(1, outage, options, () => 1)).toBe(100);
    expect(nextDelayMs(3, outage, options, () => 1)).toBe(400);
    expect(nextDelayMs(10, outage, options, () => 1)).toBe(1_000);
    expect(nextDelayMs(2, outage, options, () => 0)).toBe(0);
    const limited = new ProviderError('rate_limited', '429', { retryAfterMs: 2_000 });
    expect(nextDelayMs(1, limited, options, () => 0.5)).toBe(2_000);
  });

  it('gives up on refusals, on the last attempt, and on a Retry-After beyond the limit', () => {
    expect(retryDecision(1, new ProviderError('rejected', '401'), options)).toBeUndefined();
    expect(retryDecision(3, outage, options)).toBeUndefined();
    expect(retryDecision(1, new ProviderError('rate_limited', '429', { retryAfterMs: 60_000 }), options)).toBeUndefined();
    expect(retryDecision(1, outage, options)).toBeTypeOf('number');
  });

  it('reads Retry-After in seconds, as a date, and retry-after-ms', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMsOf(new Headers({ 'retry-after': '2' }), now)).toBe(2_000);
    expect(retryAfterMsOf(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }), now)).toBe(5_000);
    expect(retryAfterMsOf(new Headers({ 'retry-after-ms': '150', 'retry-after': '9' }), now)).toBe(150);
    expect(retryAfterMsOf(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive outages, lets one trial through after the cooldown, closes on success', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1_000 }, () => now);
    breaker.enter('P');
    breaker.failed(outage);
    breaker.enter('P');
    breaker.failed(outage);
    expect(breaker.state).toBe('open');
    expect(() => breaker.enter('P')).toThrow(/P failed 2 times in a row; calls are paused for 1 s/);
    now = 1_000;
    expect(breaker.state).toBe('half-open');
    breaker.enter('P'); // the trial
    expect(() => breaker.enter('P')).toThrow(ProviderError); // only one trial at a time
    breaker.succeeded();
    expect(breaker.state).toBe('closed');
  });

  it('a failed trial opens it again; rate limits and refusals do not count as outages', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 1_000 }, () => now);
    for (let i = 0; i < 5; i++) breaker.failed(new ProviderError('rate_limited', '429'));
    breaker.failed(new ProviderError('rejected', '401'));
    expect(breaker.state).toBe('closed');
    breaker.failed(outage);
    breaker.failed(outage);
    now = 1_500;
    breaker.enter('P');
    breaker.failed(outage);
    expect(breaker.state).toBe('open');
  });
});
