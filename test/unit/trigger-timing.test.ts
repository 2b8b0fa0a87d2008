import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_TIMING, lockPollDelay, newCorrelationId } from '../../src/orchestrator/trigger/index.js';

describe('backoffDelay', () => {
  const timing = { backoffBaseMs: 5_000, backoffCapMs: 60_000 };

  it('doubles from the base, with jitter between half and all of the step', () => {
    expect(backoffDelay(0, 1e9, timing, () => 0)).toBe(2_500);
    expect(backoffDelay(0, 1e9, timing, () => 1)).toBe(5_000);
    expect(backoffDelay(2, 1e9, timing, () => 1)).toBe(20_000);
  });

  it('waits 2.5–5 s, then 5–10 s, 10–20 s, 20–40 s, and 30–60 s from then on with the default timing', () => {
    const shortest = [0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, 1e9, DEFAULT_TIMING, () => 0));
    const longest = [0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, 1e9, DEFAULT_TIMING, () => 0.999999));
    expect(shortest).toEqual([2_500, 5_000, 10_000, 20_000, 30_000, 30_000]);
    expect(longest).toEqual([4_999, 9_999, 19_999, 39_999, 59_999, 59_999]);
  });

  it('never exceeds the cap, even after many attempts', () => {
    expect(backoffDelay(50, 1e9, timing, () => 1)).toBe(60_000);
    expect(backoffDelay(1000, 1e9, timing, () => 0.5)).toBeLessThanOrEqual(60_000);
  });

  it('never sleeps past the deadline', () => {
    expect(backoffDelay(5, 1_234, timing, () => 1)).toBe(1_234);
    expect(backoffDelay(5, 0, timing, () => 1)).toBe(0);
    expect(lockPollDelay(10, DEFAULT_TIMING, () => 1)).toBe(10);
  });
});

describe('DEFAULT_TIMING', () => {
  it('keeps a live waiting trigger from ever looking stale to another one', () => {
    expect(DEFAULT_TIMING.backoffCapMs).toBeLessThanOrEqual(DEFAULT_TIMING.heartbeatMs);
    expect(DEFAULT_TIMING.heartbeatMs + DEFAULT_TIMING.leaseMs).toBeLessThan(DEFAULT_TIMING.staleAfterMs);
  });
});

describe('newCorrelationId', () => {
  it('is the UTC time and random hex, and fits the step\'s correlation id rule', () => {
    const id = newCorrelationId(Date.UTC(2026, 10, 25, 10, 30, 5), () => Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    expect(id).toBe('20261125T103005Z-deadbeef');
    expect(id).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
  });
});
