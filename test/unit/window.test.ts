import { describe, expect, it } from 'vitest';
import { computeWindow, DEFAULT_VISIBILITY_LAG_MS } from '../../src/step/window.js';
import { ConfigError } from '../../src/shared/errors.js';

const HOUR = 3_600_000;
const T = Date.UTC(2026, 2, 10, 12, 30);

describe('computeWindow', () => {
  it('defaults the visibility lag to the 1 h flush interval plus 15 min', () => {
    expect(DEFAULT_VISIBILITY_LAG_MS).toBe(HOUR + 15 * 60_000);
  });

  it('starts just after the watermark and stops one lag before the end time', () => {
    expect(computeWindow({ watermark: T - 3 * HOUR, endTime: T, visibilityLagMs: DEFAULT_VISIBILITY_LAG_MS })).toEqual({
      empty: false,
      start: T - 3 * HOUR + 1,
      end: T - DEFAULT_VISIBILITY_LAG_MS,
      cappedBy: 'visibility-lag',
    });
  });

  it('starts at the epoch on a first run', () => {
    expect(computeWindow({ endTime: T, visibilityLagMs: HOUR })).toMatchObject({ empty: false, start: 0, end: T - HOUR });
  });

  it('stops at the end time when the replica looked later than end time plus lag', () => {
    expect(computeWindow({ watermark: 0, endTime: T, visibilityLagMs: HOUR, now: T + 2 * HOUR })).toEqual({
      empty: false, start: 1, end: T, cappedBy: 'end-time',
    });
  });

  it('lets a replica that looked a little after the end time read a little more', () => {
    expect(computeWindow({ watermark: 0, endTime: T, visibilityLagMs: HOUR, now: T + 10 * 60_000 })).toMatchObject({
      end: T - 50 * 60_000, cappedBy: 'visibility-lag',
    });
  });

  it('reads everything up to the end time with no lag', () => {
    expect(computeWindow({ watermark: 10, endTime: T, visibilityLagMs: 0 })).toEqual({ empty: false, start: 11, end: T, cappedBy: 'end-time' });
  });

  it('is empty, and says why, when the watermark already covers the visible range', () => {
    const decision = computeWindow({ watermark: T - HOUR - 1, endTime: T, visibilityLagMs: HOUR });
    expect(decision).toEqual({
      empty: true,
      start: T - HOUR,
      end: T - HOUR,
      reason: `caught up: watermark ${T - HOUR - 1} is at or after the window end ${T - HOUR - 1} (visibility-lag)`,
    });
  });

  it('is empty when a seed row put the watermark past the end time', () => {
    expect(computeWindow({ watermark: T + HOUR, endTime: T, visibilityLagMs: 0 })).toMatchObject({ empty: true });
  });

  it('reads a single millisecond when only that one is new', () => {
    expect(computeWindow({ watermark: T - 2, endTime: T, visibilityLagMs: 0 })).toMatchObject({ empty: false, start: T - 1, end: T });
  });

  it.each([
    [{ endTime: -1, visibilityLagMs: 0 }, 'endTime must be epoch milliseconds, a whole number >= 0 (got -1)'],
    [{ endTime: 1.5, visibilityLagMs: 0 }, 'endTime must be epoch milliseconds, a whole number >= 0 (got 1.5)'],
    [{ endTime: T, visibilityLagMs: -5 }, 'visibility lag must be a whole number of milliseconds >= 0 (got -5)'],
    [{ endTime: T, visibilityLagMs: 0, watermark: Number.NaN }, 'watermark must be epoch milliseconds, a whole number >= 0 (got NaN)'],
  ])('rejects %j', (request, message) => {
    expect(() => computeWindow(request)).toThrow(new ConfigError(message));
  });
});
