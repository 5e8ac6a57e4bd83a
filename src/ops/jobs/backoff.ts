/**
 * Delay before the next attempt: exponential from `baseMs`, capped at `maxMs`, with full jitter
 * so that jobs failing together (a provider outage) do not all retry at the same instant.
 */
export function retryDelayMs(attempt: number, baseMs = 1_000, maxMs = 15 * 60_000, random: () => number = Math.random): number {
  const ceilingMs = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceilingMs / 2 + (random() * ceilingMs) / 2);
}
