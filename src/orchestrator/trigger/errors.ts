import { BlockedError, IngestError, type ErrorContext } from '../../shared/errors.js';

/** Outside the schedule or inside a maintenance window, without `--force` (exit 3). Nothing was written. */
export class ScheduleRefusedError extends BlockedError {}

/** Another run stayed active for the whole wait: rows DEFERRED, alert sent (exit 3). */
export class RunDeferredError extends BlockedError {}

/**
 * Unacknowledged failed rows block the launch (exit 3). The message names the rows and the exact `ack`
 * command that clears them; this run's rows are DEFERRED (not failed: nothing went wrong with this run).
 */
export class FailedRunsBlockError extends BlockedError {
  constructor(message: string, readonly ackCommands: readonly string[], options: { context?: ErrorContext } = {}) {
    super(message, options);
  }
}

/** The trigger itself failed: rows LAMBDA_FAILED, alert sent, exit 1. `cause` holds the original failure. */
export class TriggerFailedError extends IngestError {}

/** This run's rows changed under the trigger (e.g. marked failed by another trigger that judged them stale). */
export class RowsChangedError extends IngestError {}
