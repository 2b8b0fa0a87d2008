import { backoffDelay as retryDelay } from '../../shared/retry.js';

/**
 * The trigger's clocks. Defaults are for production; tests shorten them.
 *
 * Invariants the defaults keep: a waiting trigger refreshes its rows (`heartbeatMs`) far more often than other
 * triggers judge rows stale (`staleAfterMs`), and its backoff cap is below the heartbeat, so a live trigger is
 * never mistaken for a dead one. The lease covers the decide-and-launch section (a few API calls) many times.
 */
export interface TriggerTiming {
  /** How long the launch lock is ours without renewal; a dead holder frees it after this. */
  readonly leaseMs: number;
  /** First wait after finding an active run; doubles each time. */
  readonly backoffBaseMs: number;
  /** The longest single wait between checks. */
  readonly backoffCapMs: number;
  /** Wait between attempts while another trigger holds the lock (it is deciding, which takes seconds). */
  readonly lockPollMs: number;
  /** How often a waiting trigger refreshes its rows' `UpdatedAt`. */
  readonly heartbeatMs: number;
  /** Another run's LAMBDA_TRIGGERED/WAITING rows not updated for this long belong to a trigger that died. */
  readonly staleAfterMs: number;
}

export const DEFAULT_TIMING: TriggerTiming = {
  leaseMs: 2 * 60_000,
  backoffBaseMs: 5_000,
  backoffCapMs: 60_000,
  lockPollMs: 500,
  heartbeatMs: 60_000,
  staleAfterMs: 10 * 60_000,
};

/**
 * The wait before the next check (`attempt` counts from 0): exponential from the base, capped, with equal
 * jitter (half fixed, half random) so triggers that started together do not poll in lock-step; never past the
 * deadline.
 */
export function backoffDelay(attempt: number, remainingMs: number, timing: Pick<TriggerTiming, 'backoffBaseMs' | 'backoffCapMs'>, random: () => number): number {
  const delay = retryDelay(attempt + 1, { baseDelayMs: timing.backoffBaseMs, maxDelayMs: timing.backoffCapMs, jitter: 'equal' }, random);
  return Math.max(0, Math.min(delay, remainingMs));
}

/** The wait while the lock is held by another trigger: short, jittered, never past the deadline. */
export function lockPollDelay(remainingMs: number, timing: Pick<TriggerTiming, 'lockPollMs'>, random: () => number): number {
  return Math.max(0, Math.min(Math.round(timing.lockPollMs * (0.5 + random())), remainingMs));
}
