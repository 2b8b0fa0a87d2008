import { ConfigError } from '../../shared/errors.js';
import type { CollectionName } from '../../shared/types.js';
import type { AcknowledgeResult } from '../../status/dynamo-status-adapter.js';
import { FAILED_STATUSES, type StoredStatusRow } from '../../status/status-item.js';

/** What `ack` needs from the status table (`DynamoStatusStore`). */
export interface AckStatus {
  blockingRows(collection: CollectionName): Promise<StoredStatusRow[]>;
  rowsOf(correlationId: string): Promise<StoredStatusRow[]>;
  acknowledge(correlationId: string, collection: CollectionName, who: string, at: number): Promise<AcknowledgeResult>;
}

export type AckTarget = { readonly collections: readonly CollectionName[] } | { readonly correlationId: string };

export interface AckOutcome {
  readonly correlationId: string;
  readonly collection: CollectionName;
  readonly result: AcknowledgeResult;
}

/**
 * An operator's acknowledgement: every failed row (`EMR_FAILED`, `LAMBDA_FAILED`) of the named collections, or
 * of one run, becomes its `_` form with who and when, which stops it blocking later launches. Rows in other
 * states are left alone. An unknown correlation id is a usage error (a typo must not pass as "nothing to do").
 */
export async function acknowledgeFailures(target: AckTarget, who: string, at: number, status: AckStatus): Promise<AckOutcome[]> {
  let failed: StoredStatusRow[];
  if ('correlationId' in target) {
    const rows = await status.rowsOf(target.correlationId);
    if (rows.length === 0) throw new ConfigError(`no status rows have correlation id ${target.correlationId}. Fix: copy the id from \`ingest-replica status\` or the alert.`, { context: { correlationId: target.correlationId } });
    failed = rows.filter((r) => FAILED_STATUSES.has(r.status));
  } else {
    if (target.collections.length === 0) throw new ConfigError('name the collections to acknowledge (ns:table …) or pass --correlation-id');
    failed = (await Promise.all(target.collections.map((c) => status.blockingRows(c)))).flat().filter((r) => FAILED_STATUSES.has(r.status));
  }
  const outcomes: AckOutcome[] = [];
  for (const row of failed) {
    outcomes.push({ correlationId: row.correlationId, collection: row.collection, result: await status.acknowledge(row.correlationId, row.collection, who, at) });
  }
  return outcomes;
}
