/**
 * A bounded retry loop with exponential backoff and full jitter (delay = random × min(cap, base × 2^(n-1))),
 * the schedule that spreads out many clients retrying the same service at once. Dependency-free.
 */
export interface RetryPolicy {
  /** Total attempts, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000 });

export interface RetryOptions extends RetryPolicy {
  /** Whether a failed attempt may be tried again. Not consulted after the last attempt. */
  readonly retryable: (error: unknown) => boolean;
  /** Builds the error thrown once attempts are spent; by default the last error is rethrown. */
  readonly exhausted?: (lastError: unknown, attempts: number) => unknown;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  readonly signal?: AbortSignal;
  /** Injected for tests: a number in [0, 1). */
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

export async function retry<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? abortableSleep;
  const attempts = Math.max(1, Math.floor(options.maxAttempts));
  for (let attempt = 1; ; attempt += 1) {
    options.signal?.throwIfAborted();
    try {
      return await operation(attempt);
    } catch (e) {
      // An abort by the caller ends the loop at once, whatever the error looked like.
      options.signal?.throwIfAborted();
      if (!options.retryable(e)) throw e;
      if (attempt >= attempts) throw options.exhausted ? options.exhausted(e, attempt) : e;
      const delay = backoffDelay(attempt, options, options.random);
      options.onRetry?.(e, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
