import { BLOCKING_STATUSES, type CollectionName } from '../../shared/types.js';
import { FAILED_STATUSES, type StoredStatusRow } from '../../status/status-item.js';
import { staleInFlight } from '../trigger/guard.js';

/** What `status` reads per collection from the status table (`DynamoStatusStore`). */
export interface FreshnessStatus {
  lastCompletedEnd(collection: CollectionName): Promise<number | undefined>;
  lastRunWithData(collection: CollectionName): Promise<StoredStatusRow | undefined>;
  latestRuns(collection: CollectionName, limit: number): Promise<StoredStatusRow[]>;
  blockingRows(collection: CollectionName): Promise<StoredStatusRow[]>;
}

/**
 * "Is my data fresh?" for one collection:
 * - `completeUpTo`: the watermark; every record with a timestamp at or below it is published;
 * - `lagMs`: how far it is behind now;
 * - `state`: `ok`, `running` (a run in flight: the next launch waits for it), `needs-ack` (a failed run, or a
 *   stale in-flight row, blocks every later launch until `ack`), `never-run`.
 */
export interface Freshness {
  readonly collection: CollectionName;
  readonly completeUpTo: number | null;
  readonly lagMs: number | null;
  readonly lastRunWithData: RunBrief | null;
  readonly latestRun: RunBrief | null;
  readonly state: 'ok' | 'running' | 'needs-ack' | 'never-run';
  readonly needsAck: boolean;
  /** The command that clears what blocks, when `needsAck`. */
  readonly ackCommand: string | null;
  /** The rows that need an ack, with their `StatusReason`. */
  readonly failures: readonly RunBrief[];
  readonly runs: readonly StoredStatusRow[];
  readonly blocking: readonly StoredStatusRow[];
}

export interface RunBrief {
  readonly correlationId: string;
  readonly status: string;
  readonly triggeredTime: number;
  readonly processedDataEnd: number | null;
  readonly reason: string | null;
}

export async function readFreshness(collection: CollectionName, status: FreshnessStatus, runs: number, now: number, staleAfterMs: number): Promise<Freshness> {
  const [watermark, withData, latest, blocking] = await Promise.all([
    status.lastCompletedEnd(collection), status.lastRunWithData(collection), status.latestRuns(collection, runs), status.blockingRows(collection),
  ]);
  return freshnessOf({ collection, watermark, withData, latest, blocking }, now, staleAfterMs);
}

/** The pure part of `readFreshness`: the view from the rows read. */
export function freshnessOf(
  rows: { collection: CollectionName; watermark: number | undefined; withData: StoredStatusRow | undefined; latest: readonly StoredStatusRow[]; blocking: readonly StoredStatusRow[] },
  now: number,
  staleAfterMs: number,
): Freshness {
  const failures = rows.blocking.filter((r) => FAILED_STATUSES.has(r.status) || staleInFlight(r, now, staleAfterMs) !== undefined);
  const running = rows.blocking.some((r) => BLOCKING_STATUSES.has(r.status) && !failures.includes(r));
  const needsAck = failures.length > 0;
  const state = needsAck ? 'needs-ack' : running ? 'running' : rows.latest.length === 0 && rows.watermark === undefined ? 'never-run' : 'ok';
  return {
    collection: rows.collection,
    completeUpTo: rows.watermark ?? null,
    lagMs: rows.watermark === undefined ? null : Math.max(0, now - rows.watermark),
    lastRunWithData: rows.withData === undefined ? null : brief(rows.withData),
    latestRun: rows.latest[0] === undefined ? null : brief(rows.latest[0]),
    state,
    needsAck,
    ackCommand: needsAck ? `ingest-replica ack ${rows.collection}` : null,
    failures: failures.map((r) => brief(r, staleInFlight(r, now, staleAfterMs))),
    runs: rows.latest,
    blocking: rows.blocking,
  };
}

function brief(row: StoredStatusRow, why?: string): RunBrief {
  return {
    correlationId: row.correlationId,
    status: row.status,
    triggeredTime: row.triggeredTime,
    processedDataEnd: typeof row.processedDataEnd === 'number' ? row.processedDataEnd : null,
    reason: row.reason ?? why ?? null,
  };
}
