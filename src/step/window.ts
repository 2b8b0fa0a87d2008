import { ConfigError } from '../shared/errors.js';
import type { Window } from '../shared/types.js';

/**
 * The window rule: which cell timestamps one run reads for a collection.
 *
 * The replica sees only what the primary has flushed to S3 (DESIGN.md §3.1), and the primary flushes every
 * region at least once per flush interval (`hbase.regionserver.optionalcacheflushinterval`, 1 h by default).
 * A record written at wall-clock time w is therefore surely visible to a replica that looks at time
 * `now >= w + flush interval`. Reading up to `now` would skip still-unflushed records for good, because the
 * watermark then moves past them (the old system's bug). So the window stops `visibilityLagMs` before the
 * moment the replica looks; the cost is freshness: a record reaches the output one lag later than it could.
 *
 * What the lag cannot fix: cell timestamps are business time, not write time. A record that reaches HBase
 * later than its business time plus the lag lands below a watermark that has already moved past it; only a
 * reprocess of that window picks it up.
 */

/**
 * Default lag: the 1 h flush interval plus 15 min margin for the replica's store-file refresh, clock skew
 * and ingest delay. Lower it only if the primary flushes more often; raising it trades freshness for safety.
 */
export const DEFAULT_VISIBILITY_LAG_MS = 75 * 60 * 1000;

export interface WindowRequest {
  /** The collection's watermark: inclusive, the last ms a completed run covered. Absent on a first run. */
  readonly watermark?: number;
  /** `--end-time` from the orchestrator (usually the trigger time), epoch ms. The window never goes past it. */
  readonly endTime: number;
  readonly visibilityLagMs: number;
  /**
   * When the replica's view of the data was taken. Defaults to `endTime`, which is conservative: the
   * replica is launched after the trigger, so its view is at least that fresh.
   */
  readonly now?: number;
}

export type WindowDecision =
  | (Window & { readonly empty: false; readonly cappedBy: 'end-time' | 'visibility-lag' })
  | { readonly empty: true; readonly reason: string; readonly start: number; readonly end: number };

/** Half-open `[start, end)`; an empty decision means nothing to read and the watermark stays where it is. */
export function computeWindow(request: WindowRequest): WindowDecision {
  const { watermark, endTime, visibilityLagMs } = request;
  const now = request.now ?? endTime;
  requireMs('endTime', endTime);
  requireMs('now', now);
  if (watermark !== undefined) requireMs('watermark', watermark);
  if (!Number.isInteger(visibilityLagMs) || visibilityLagMs < 0) {
    throw new ConfigError(`visibility lag must be a whole number of milliseconds >= 0 (got ${visibilityLagMs})`);
  }
  // The watermark is inclusive (it was covered), so the next window starts just after it.
  const start = watermark === undefined ? 0 : watermark + 1;
  const visible = now - visibilityLagMs;
  const cappedBy = visible < endTime ? 'visibility-lag' : 'end-time';
  const end = Math.min(endTime, visible);
  if (end <= start) {
    const reason = watermark === undefined
      ? `nothing is visible yet: end ${end} (${cappedBy}) is not after the epoch`
      : `caught up: watermark ${watermark} is at or after the window end ${end - 1} (${cappedBy})`;
    return { empty: true, reason, start, end };
  }
  return { empty: false, start, end, cappedBy };
}

function requireMs(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(`${name} must be epoch milliseconds, a whole number >= 0 (got ${value})`);
  }
}
