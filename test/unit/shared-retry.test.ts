import { describe, expect, it } from 'vitest';
import { backoffDelay, retryPolicy, withRetry, type RetryPolicy } from '../../src/shared/retry.js';
import { prng } from '../support/prng.js';

const full: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000, jitter: 'full' };
const equal: RetryPolicy = { ...full, jitter: 'equal' };

/** A clock that only moves when the code under test sleeps: every wait is recorded, none is spent. */
function fakeClock(): { now: () => number; slept: number[]; sleep: (ms: number, signal?: AbortSignal) => Promise<void> } {
  let now = 0;
  const slept: number[] = [];
  return {
    now: () => now,
    slept,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      slept.push(ms);
      now += ms;
    },
  };
}

describe('backoffDelay', () => {
  it('doubles the ceiling from the base after each failure, up to the cap', () => {
    const top = (): number => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, full, top))).toEqual([99, 199, 399, 799, 1599, 3199, 4999, 4999]);
    expect([1, 2, 3, 6, 7].map((n) => backoffDelay(n, equal, () => 0))).toEqual([50, 100, 200, 1600, 2500]);
  });

  it('with full jitter, waits anywhere in [0, ceiling); with equal jitter, in [ceiling/2, ceiling)', () => {
    const random = prng(12);
    for (let i = 0; i < 2_000; i++) {
      const failures = 1 + (i % 9);
      const ceiling = Math.min(5_000, 100 * 2 ** (failures - 1));
      const f = backoffDelay(failures, full, random);
      const e = backoffDelay(failures, equal, random);
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(ceiling);
      expect(e).toBeGreaterThanOrEqual(ceiling / 2);
      expect(e).toBeLessThan(ceiling);
      expect(Number.isInteger(f) && Number.isInteger(e)).toBe(true);
    }
  });

  it('stays at the cap after any number of failures, and at 0 with a base of 0', () => {
    expect(backoffDelay(10_000, equal, () => 0.999999)).toBe(4_999);
    expect(backoffDelay(10_000, { ...equal, baseDelayMs: 0 }, () => 0.5)).toBe(0);
  });
});

describe('withRetry', () => {
  it('tries a retryable failure maxAttempts times, waiting the backoff between, then throws what exhausted() builds', async () => {
    const clock = fakeClock();
    let attempts = 0;
    const result = withRetry(full, async () => {
      attempts += 1;
      throw new Error(`fail ${attempts}`);
    }, {
      retryable: () => true,
      random: () => 0.5,
      sleep: clock.sleep,
      exhausted: (e, n) => new Error(`gave up after ${n}: ${(e as Error).message}`),
    });
    await expect(result).rejects.toThrow('gave up after 5: fail 5');
    expect(attempts).toBe(5);
    expect(clock.slept).toEqual([50, 100, 200, 400]);
    expect(clock.now()).toBe(750);
  });

  it('rethrows the last error itself when no exhausted() is given', async () => {
    const last = new Error('still down');
    await expect(withRetry({ ...full, maxAttempts: 2 }, async () => { throw last; }, { retryable: () => true, sleep: fakeClock().sleep })).rejects.toBe(last);
  });

  it('throws a failure that is not retryable at once, without waiting', async () => {
    const clock = fakeClock();
    let attempts = 0;
    const permanent = new Error('permanent');
    await expect(withRetry(full, async () => {
      attempts += 1;
      if (attempts < 3) throw new Error('flaky');
      throw permanent;
    }, { retryable: (e) => e !== permanent, sleep: clock.sleep })).rejects.toBe(permanent);
    expect(attempts).toBe(3);
    expect(clock.slept).toHaveLength(2);
  });

  it('returns the first success, reporting each retry with its attempt and wait', async () => {
    const clock = fakeClock();
    const retries: [number, number][] = [];
    const value = await withRetry(equal, async (n) => {
      if (n < 3) throw new Error('flaky');
      return `ok at ${n}`;
    }, { retryable: () => true, random: () => 0, sleep: clock.sleep, onRetry: (_e, attempt, delayMs) => retries.push([attempt, delayMs]) });
    expect(value).toBe('ok at 3');
    expect(retries).toEqual([[1, 50], [2, 100]]);
    expect(clock.slept).toEqual([50, 100]);
  });

  it('makes one attempt at least, whatever maxAttempts says', async () => {
    let attempts = 0;
    await expect(withRetry({ ...full, maxAttempts: 0 }, async () => {
      attempts += 1;
      throw new Error('down');
    }, { retryable: () => true, sleep: fakeClock().sleep })).rejects.toThrow('down');
    expect(attempts).toBe(1);
  });

  it('does not start when already aborted, and stops at an abort during an attempt whatever the error', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    let attempts = 0;
    await expect(withRetry(full, async () => { attempts += 1; }, { retryable: () => true, signal: controller.signal })).rejects.toThrow('cancelled');
    expect(attempts).toBe(0);

    const during = new AbortController();
    const clock = fakeClock();
    await expect(withRetry(full, async () => {
      attempts += 1;
      during.abort(new Error('stopped'));
      throw new Error('retryable-looking');
    }, { retryable: () => true, signal: during.signal, sleep: clock.sleep })).rejects.toThrow('stopped');
    expect(attempts).toBe(1);
    expect(clock.slept).toEqual([]);
  });

  it('ends the real wait between attempts when the caller aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = withRetry({ maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'full' }, async () => { throw new Error('flaky'); }, {
      retryable: () => true, random: () => 0.99, signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('cancelled')), 20);
    await expect(pending).rejects.toThrow('cancelled');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('retryPolicy', () => {
  it('keeps a default for each limit the caller leaves undefined', () => {
    expect(retryPolicy(full, { maxAttempts: 3, baseDelayMs: undefined })).toEqual({ ...full, maxAttempts: 3 });
    expect(Object.isFrozen(retryPolicy(full))).toBe(true);
  });
});
