import { describe, expect, it } from 'vitest';
import { backoffDelay, retry } from '../../src/keys/retry.js';

const policy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000 };

describe('retry', () => {
  it('grows the backoff ceiling exponentially up to the cap, with full jitter below it', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, policy, top))).toEqual([99, 199, 399, 799, 1599, 3199, 4999, 4999]);
    expect(backoffDelay(4, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
  });

  it('retries a retryable failure up to maxAttempts, then throws what exhausted() builds', async () => {
    const slept: number[] = [];
    let attempts = 0;
    const result = retry(async () => {
      attempts += 1;
      throw new Error(`fail ${attempts}`);
    }, {
      ...policy,
      retryable: () => true,
      random: () => 0.5,
      sleep: async (ms) => { slept.push(ms); },
      exhausted: (e, n) => new Error(`gave up after ${n}: ${(e as Error).message}`),
    });
    await expect(result).rejects.toThrow('gave up after 5: fail 5');
    expect(attempts).toBe(5);
    expect(slept).toEqual([50, 100, 200, 400]);
  });

  it('stops at once on a failure that is not retryable', async () => {
    let attempts = 0;
    await expect(retry(async () => {
      attempts += 1;
      throw new Error('permanent');
    }, { ...policy, retryable: () => false, sleep: async () => undefined })).rejects.toThrow('permanent');
    expect(attempts).toBe(1);
  });

  it('returns the first success', async () => {
    let attempts = 0;
    const value = await retry(async (n) => {
      attempts = n;
      if (n < 3) throw new Error('flaky');
      return 'ok';
    }, { ...policy, retryable: () => true, sleep: async () => undefined });
    expect(value).toBe('ok');
    expect(attempts).toBe(3);
  });

  it('ends the wait between attempts when the caller aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = retry(async () => { throw new Error('flaky'); }, {
      maxAttempts: 5, baseDelayMs: 60_000, maxDelayMs: 60_000, retryable: () => true, random: () => 0.99, signal: controller.signal,
    });
    setTimeout(() => controller.abort(new Error('cancelled')), 20);
    await expect(pending).rejects.toThrow('cancelled');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
