/** Public surface of the trigger. Adapters (child process, local replica stand-in) are imported from their own files. */
export { trigger, type TriggerResult } from './trigger.js';
export { completeLocally, type LocalRunPorts, type LocalRunResult, type ReplicaStandIn, type StepProcess } from './local-run.js';
export { FailedRunsBlockError, RowsChangedError, RunDeferredError, ScheduleRefusedError, TriggerFailedError } from './errors.js';
export { ackCommands, assess, reconcileRow, staleInFlight, type Verdict } from './guard.js';
export { backoffDelay, DEFAULT_TIMING, lockPollDelay, type TriggerTiming } from './timing.js';
export { newCorrelationId } from './correlation-id.js';
export type { Clock, TriggerPorts, TriggerRequest, TriggerStatus } from './ports.js';
