import { sleep as timerSleep } from './time.js';

/**
 * The one retry policy: a bounded number of attempts with exponential backoff and jitter. Every caller states
 * only its limits (a `RetryPolicy`) and which failures are worth another attempt:
 * - DKS and KMS (src/keys): 5 attempts, 100 ms doubling to 5 s, full jitter; 5xx/429/network retried, 4xx not;
 * - HBase REST calls and scans (src/hbase): 8 attempts, 200 ms doubling to 10 s, full jitter; 503 and
 *   connection errors retried, 4xx not (a scan counts failures in a row, so it uses `backoffDelay` alone);
 * - the status table's BatchGetItem (src/status): 6 attempts while keys stay unprocessed (throttling), 200 ms
 *   doubling to 2 s, equal jitter;
 * - the trigger's wait for an active run (src/orchestrator/trigger): 5 s doubling to 60 s, equal jitter, never
 *   past its deadline (a poll loop, so it uses `backoffDelay` alone).
 *
 * Written here rather than taken from p-retry: p-retry spreads delays by a factor in [1, 2) (neither of the
 * jitters below), cannot take an injected sleep or random source, and the two poll loops need the schedule
 * without the loop.
 */

/**
 * `full`: the wait is anywhere in [0, ceiling), which spreads many clients retrying one service best;
 * `equal`: in [ceiling/2, ceiling), so a retry never follows almost at once.
 */
export type Jitter = 'full' | 'equal';

export interface Backoff {
  /** The ceiling of the wait after the first failure; it doubles after each further failure. */
  readonly baseDelayMs: number;
  /** The largest ceiling. */
  readonly maxDelayMs: number;
  readonly jitter: Jitter;
}

export interface RetryPolicy extends Backoff {
  /** Total attempts, the first included. */
  readonly maxAttempts: number;
}

export interface RetryOptions {
  /** Whether a failed attempt may be tried again. Not consulted after the last attempt. */
  readonly retryable: (error: unknown) => boolean;
  /** Builds the error thrown once attempts are spent; by default the last error is rethrown. */
  readonly exhausted?: (lastError: unknown, attempts: number) => unknown;
  /** Called before each wait, with the attempt that failed (1-based). */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Aborting ends the loop at once, during an attempt or a wait, with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Injected for tests: a number in [0, 1). */
  readonly random?: () => number;
  /** Injected for tests; by default a timer that the signal cuts short. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Beyond this many doublings every ceiling is the cap anyway; the bound keeps the arithmetic finite. */
const MAX_DOUBLINGS = 30;

/** The wait after the `failures`-th failure in a row (1-based): whole milliseconds. */
export function backoffDelay(failures: number, backoff: Backoff, random: () => number = Math.random): number {
  const doublings = Math.min(Math.max(0, failures - 1), MAX_DOUBLINGS);
  const ceiling = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** doublings);
  const spread = backoff.jitter === 'full' ? ceiling : ceiling / 2;
  return Math.floor(ceiling - spread + random() * spread);
}

/** Runs `operation` (given its 1-based attempt number) until it succeeds, fails for good, or attempts run out. */
export async function withRetry<T>(policy: RetryPolicy, operation: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? timerSleep;
  const attempts = Math.max(1, Math.floor(policy.maxAttempts));
  for (let attempt = 1; ; attempt += 1) {
    options.signal?.throwIfAborted();
    try {
      return await operation(attempt);
    } catch (e) {
      // An abort by the caller ends the loop at once, whatever the error looked like.
      options.signal?.throwIfAborted();
      if (!options.retryable(e)) throw e;
      if (attempt >= attempts) throw options.exhausted ? options.exhausted(e, attempt) : e;
      const delay = backoffDelay(attempt, policy, options.random);
      options.onRetry?.(e, attempt, delay);
      await sleep(delay, options.signal);
    }
  }
}

/** `defaults` with every limit in `overrides` that is set (an `undefined` keeps the default). */
export function retryPolicy(defaults: RetryPolicy, overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return Object.freeze({
    maxAttempts: overrides.maxAttempts ?? defaults.maxAttempts,
    baseDelayMs: overrides.baseDelayMs ?? defaults.baseDelayMs,
    maxDelayMs: overrides.maxDelayMs ?? defaults.maxDelayMs,
    jitter: overrides.jitter ?? defaults.jitter,
  });
}
