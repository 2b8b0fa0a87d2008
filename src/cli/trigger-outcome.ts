import { FailedRunsBlockError, RunDeferredError, ScheduleRefusedError } from '../orchestrator/trigger/index.js';
import { ConfigError, exitCodeFor, IngestError, toError } from '../shared/errors.js';

/**
 * `trigger --json` when the trigger did not launch: the outcome as the Lambda handler names it (`refused`,
 * `deferred`, `blocked`), or `failed` / `invalid`, with the message, the error's context and, when blocked, the
 * commands that clear it. The exit code is the one the error maps to (3 blocked, 1 failed, 2 invalid).
 */
export function triggerOutcome(caught: unknown): { json: Record<string, unknown>; exitCode: number } {
  const error = toError(caught);
  const outcome = error instanceof ScheduleRefusedError ? 'refused'
    : error instanceof RunDeferredError ? 'deferred'
      : error instanceof FailedRunsBlockError ? 'blocked'
        : error instanceof ConfigError ? 'invalid' : 'failed';
  const exitCode = exitCodeFor(error);
  return {
    json: {
      outcome,
      exitCode,
      message: error.message,
      ...(error instanceof IngestError ? { context: error.context } : {}),
      ...(error instanceof FailedRunsBlockError ? { ackCommands: error.ackCommands } : {}),
    },
    exitCode,
  };
}
