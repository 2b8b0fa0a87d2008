import type { Logger } from '../../shared/logger.js';
import type { CollectionConfig, JobStatus } from '../../shared/types.js';
import type { StatusRow } from '../../step/ports.js';
import type { StoredStatusRow } from '../../status/status-item.js';
import type { LaunchLock } from '../../status/launch-lock.js';
import type { AlertPublisher } from '../alerts/alert.js';
import type { EmrControl } from '../emr/ports.js';
import type { LaunchPlanner } from '../emr/launch-planner.js';
import type { LaunchDecision } from '../schedule/index.js';
import type { TriggerTiming } from './timing.js';

/** What the trigger reads and writes in the job status table. */
export interface TriggerStatus {
  /** Conditional transition (see `StatusStore.transition`) recording why; no reason clears an older one. */
  transition(row: StatusRow, from: readonly (JobStatus | undefined)[], reason?: string): Promise<boolean>;
  get(correlationId: string, collection: string): Promise<StoredStatusRow | undefined>;
  /** The collection's rows in blocking states, through the GSI (paginated), as full rows. */
  blockingRows(collection: string): Promise<StoredStatusRow[]>;
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  random(): number;
}

/** Everything the trigger core talks to; built once in `src/wiring/orchestrator-graph.ts`. */
export interface TriggerPorts {
  /** Whether a launch at this instant is on schedule (`launchDecision` with the configured schedule). */
  readonly schedule: (at: number) => LaunchDecision;
  /** The configured collections (the secret), or those requested by name. */
  readonly collections: (requested: readonly string[]) => Promise<CollectionConfig[]>;
  readonly status: TriggerStatus;
  /** The status table's name, for the `ack` commands the trigger prints. */
  readonly statusTable: string;
  readonly lock: LaunchLock;
  readonly emr: EmrControl;
  readonly planner: LaunchPlanner;
  readonly alerts: AlertPublisher;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface TriggerRequest {
  /** The instant the schedule is judged at (`--at`); the run itself is always triggered now. */
  readonly at?: number;
  /** Launch even outside the launch slots or on a skipped bank holiday (never inside a maintenance window). */
  readonly force: boolean;
  /** Launch even inside a maintenance window (implies `force`); the alert says so. */
  readonly overrideMaintenanceWindow?: boolean;
  /** How long to wait for an active run before deferring. */
  readonly waitMs: number;
  /** Judge as a real trigger would (schedule, guards, wait), then return the request; write nothing, launch nothing. */
  readonly dryRun: boolean;
  /** Only these collections (names need not be configured); all configured ones when empty. */
  readonly collections?: readonly string[];
  /** Fixed correlation id (tests); a new one otherwise. */
  readonly correlationId?: string;
  readonly timing?: Partial<TriggerTiming>;
  readonly signal?: AbortSignal;
}
