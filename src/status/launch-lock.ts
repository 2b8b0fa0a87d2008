import { ATTR, keyOf, type Item } from './status-item.js';

/**
 * The launch lock: one bookkeeping item in the job status table that serialises the trigger's decide-and-launch
 * section, so that triggers firing at the same moment launch exactly one cluster.
 *
 * Why an item of its own: each run's rows are keyed by its own correlation id, so no conditional write on them
 * can see a competing run, and the GSI the guard reads is eventually consistent. A single well-known key with
 * a conditional write is the one place where DynamoDB itself decides who goes first.
 *
 * Key `CorrelationId = "LAUNCH_LOCK"`, `Collection = "*"`. It has no `TriggeredTime`, so it is absent from the
 * `byCollection` index (the status command and the guard never see it) and no `JobStatus`, so tools filtering
 * on statuses skip it. It is a **lease**: a holder that dies frees it when `LockExpiresAt` passes. It also keeps
 * the last launch (`LastLaunchClusterId`, …) so the next holder asks EMR about that cluster by id, which does
 * not depend on ListClusters having caught up.
 */
export const LAUNCH_LOCK_ID = 'LAUNCH_LOCK';
export const LAUNCH_LOCK_COLLECTION = '*';

export const LOCK_ATTR = {
  owner: 'LockOwner',
  expiresAt: 'LockExpiresAt',
  acquiredAt: 'LockAcquiredAt',
  lastLaunchClusterId: 'LastLaunchClusterId',
  lastLaunchCorrelationId: 'LastLaunchCorrelationId',
  lastLaunchAt: 'LastLaunchAt',
  note: 'Note',
  updatedAt: ATTR.updatedAt,
} as const;

export const LOCK_NOTE = 'ingest-replica launch lock (see README, Orchestrator). Safe to delete only when no trigger runs.';

export const lockKey = (): Item => keyOf(LAUNCH_LOCK_ID, LAUNCH_LOCK_COLLECTION);

export interface LaunchRecord {
  readonly clusterId: string;
  readonly correlationId: string;
  readonly at: number;
}

export type LockAttempt =
  | { readonly acquired: true; readonly lastLaunch?: LaunchRecord }
  | { readonly acquired: false; readonly holder: string; readonly expiresAt: number };

/** Port of the lock, used by the trigger. Every write is conditional on the owner. */
export interface LaunchLock {
  /** Takes the lock when free, expired, or already ours; otherwise says who holds it until when. */
  acquire(owner: string, now: number, leaseMs: number): Promise<LockAttempt>;
  /** Extends our lease; false when the lock is no longer ours (the fence before launching). */
  renew(owner: string, now: number, leaseMs: number): Promise<boolean>;
  /** Records a launch while holding the lock; false when the lock is no longer ours. */
  recordLaunch(owner: string, launch: LaunchRecord): Promise<boolean>;
  /** Frees the lock if it is ours; false when it was not (expired and taken). */
  release(owner: string): Promise<boolean>;
  /** What `acquire` would answer now, without writing (a dry run): held by someone else until when, or free. */
  peek(owner: string, now: number): Promise<LockAttempt>;
}

export function launchRecordOf(item: Item | undefined): LaunchRecord | undefined {
  const clusterId = item?.[LOCK_ATTR.lastLaunchClusterId];
  if (typeof clusterId !== 'string' || clusterId === '') return undefined;
  return {
    clusterId,
    correlationId: String(item?.[LOCK_ATTR.lastLaunchCorrelationId] ?? ''),
    at: Number(item?.[LOCK_ATTR.lastLaunchAt] ?? 0),
  };
}
