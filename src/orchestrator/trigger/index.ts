/** Public surface of the trigger. The local stand-ins (child step process, replica stand-in, local completion) live in src/local/trigger/. */
export { trigger, type TriggerResult } from './trigger.js';
export { FailedRunsBlockError, RowsChangedError, RunDeferredError, ScheduleRefusedError, TriggerFailedError } from './errors.js';
export { ackCommands, assess, reconcileRow, staleInFlight, type Verdict } from './guard.js';
export { backoffDelay, DEFAULT_TIMING, lockPollDelay, type TriggerTiming } from './timing.js';
export { newCorrelationId } from './correlation-id.js';
export type { Clock, TriggerPorts, TriggerRequest, TriggerStatus } from './ports.js';
