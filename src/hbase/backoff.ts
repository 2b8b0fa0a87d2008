/**
 * Retry pacing for the HBase REST client: exponential backoff with full jitter
 * (delay = random × min(cap, base × 2^(n−1))), which spreads out parallel range scans retrying at once.
 */
export interface RetryPolicy {
  /** Consecutive failed attempts allowed before giving up, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_HBASE_RETRY: RetryPolicy = Object.freeze({ maxAttempts: 8, baseDelayMs: 200, maxDelayMs: 10_000 });

export function backoffDelay(failures: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * ceiling);
}
