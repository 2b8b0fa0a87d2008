import { ConfigError } from '../../shared/errors.js';
import type { CollectionName } from '../../shared/types.js';
import type { AcknowledgeResult } from '../../status/dynamo-status-adapter.js';
import { FAILED_STATUSES, SEED_CORRELATION_ID, type StoredStatusRow } from '../../status/status-item.js';
import { staleInFlight } from '../trigger/guard.js';

/** What `ack` needs from the status table (`DynamoStatusStore`). */
export interface AckStatus {
  blockingRows(collection: CollectionName): Promise<StoredStatusRow[]>;
  rowsOf(correlationId: string): Promise<StoredStatusRow[]>;
  latestRuns(collection: CollectionName, limit: number): Promise<StoredStatusRow[]>;
  get(correlationId: string, collection: CollectionName): Promise<StoredStatusRow | undefined>;
  acknowledge(correlationId: string, collection: CollectionName, who: string, at: number, stale?: { readonly staleAfterMs: number; readonly why: string }): Promise<AcknowledgeResult>;
}

export type AckTarget = { readonly collections: readonly CollectionName[] } | { readonly correlationId: string };

export interface AckOutcome {
  readonly correlationId: string;
  readonly collection: CollectionName;
  readonly result: AcknowledgeResult;
}

/**
 * An operator's acknowledgement: every failed row (`EMR_FAILED`, `LAMBDA_FAILED`) of the named collections, or
 * of one run, becomes its `_` form with who and when, which stops it blocking later launches. So does a stale
 * in-flight row with no cluster (`staleInFlight`: a hand-started step that was killed), as `_EMR_FAILED`, with
 * the reason it was judged stale. Rows in other states are left alone. An unknown correlation id, or a collection
 * with no row at all, is a usage error (a typo must not pass as "nothing to do").
 */
export async function acknowledgeFailures(target: AckTarget, who: string, at: number, status: AckStatus, staleAfterMs: number): Promise<AckOutcome[]> {
  let failed: StoredStatusRow[];
  if ('correlationId' in target) {
    const rows = await status.rowsOf(target.correlationId);
    if (rows.length === 0) throw new ConfigError(`no status rows have correlation id ${target.correlationId}. Fix: copy the id from \`ingest-replica status\` or the alert.`, { context: { correlationId: target.correlationId } });
    failed = rows;
  } else {
    if (target.collections.length === 0) throw new ConfigError('name the collections to acknowledge (ns:table …) or pass --correlation-id');
    const blocking = await Promise.all(target.collections.map((c) => status.blockingRows(c)));
    const unknown: CollectionName[] = [];
    for (const [i, c] of target.collections.entries()) if (blocking[i]?.length === 0 && !(await known(c, status))) unknown.push(c);
    if (unknown.length > 0) {
      throw new ConfigError(`no status rows for collection${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: nothing of that name ever ran. Fix: copy the name (ns:table) from \`ingest-replica status\` or the alert.`, { context: { collections: unknown.join(',') } });
    }
    failed = blocking.flat();
  }
  const outcomes: AckOutcome[] = [];
  for (const row of failed) {
    const why = staleInFlight(row, at, staleAfterMs);
    if (!FAILED_STATUSES.has(row.status) && why === undefined) continue;
    const stale = why === undefined ? undefined : { staleAfterMs, why };
    outcomes.push({ correlationId: row.correlationId, collection: row.collection, result: await status.acknowledge(row.correlationId, row.collection, who, at, stale) });
  }
  return outcomes;
}

/** Whether the status table has any row of the collection: a run, or a hand-made seed row (absent from the GSI). */
async function known(collection: CollectionName, status: AckStatus): Promise<boolean> {
  if ((await status.latestRuns(collection, 1)).length > 0) return true;
  return (await status.get(SEED_CORRELATION_ID, collection)) !== undefined;
}
