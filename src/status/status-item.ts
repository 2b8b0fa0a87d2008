import type { StatusRow, TransitionGuard } from '../step/ports.js';
import type { CollectionName, JobStatus } from '../shared/types.js';

/**
 * The job status table's items (DESIGN.md §3.3), as plain values for the DynamoDB document client.
 * Operators read and edit this table by hand, so the attribute names are fixed and the reader is lenient
 * about hand-written values (a number typed as a string still counts as a number).
 */
export const ATTR = {
  correlationId: 'CorrelationId',
  collection: 'Collection',
  status: 'JobStatus',
  triggeredTime: 'TriggeredTime',
  processedDataStart: 'ProcessedDataStart',
  processedDataEnd: 'ProcessedDataEnd',
  emrReadyTime: 'EMRReadyTime',
  emrClusterId: 'EMRClusterId',
  updatedAt: 'UpdatedAt',
  acknowledgedBy: 'AcknowledgedBy',
  acknowledgedAt: 'AcknowledgedAt',
  /** Why the row is in its state, in words for the operator (see status-reason-adapter.ts). */
  reason: 'StatusReason',
  /** The attempt token of the runner that moved the row to EMR_PROCESSING (it holds the collection lease). */
  owner: 'Owner',
  /** The run's output folder (key prefix in the output bucket), set when the run starts. */
  outputFolder: 'OutputFolder',
  /** When a settle step found this dead run's folder unpublished and removed it: never checked again. */
  outputChecked: 'OutputChecked',
  /** The attempt that passed the run's commit point: from then on the row is completed, never abandoned. */
  publishClaim: 'PublishClaim',
} as const;

/** GSI: hash `Collection`, range `TriggeredTime` (N), projecting the three attributes below. */
export const BY_COLLECTION_INDEX = 'byCollection';
export const BY_COLLECTION_PROJECTION = [ATTR.status, ATTR.processedDataStart, ATTR.processedDataEnd] as const;

/** The correlation id of the row that seeds a collection's watermark without reprocessing history. */
export const SEED_CORRELATION_ID = '000';

/** Failed states an operator acknowledges (`EMR_FAILED` → `_EMR_FAILED`) to unblock later launches. */
export const FAILED_STATUSES: ReadonlySet<string> = new Set<JobStatus>(['EMR_FAILED', 'LAMBDA_FAILED']);

/** A status row as stored, with the bookkeeping attributes the port does not need. */
export interface StoredStatusRow extends StatusRow {
  readonly updatedAt?: number;
  readonly acknowledgedBy?: string;
  readonly acknowledgedAt?: number;
}

export type Item = Record<string, unknown>;

/** A status as stored: a contract status, or its acknowledged `_` form. */
export type StoredStatus = JobStatus | `_${JobStatus}`;

export function keyOf(correlationId: string, collection: CollectionName): Item {
  return { [ATTR.correlationId]: correlationId, [ATTR.collection]: collection };
}

/** Reads an item (full, or as projected by the GSI). A missing `TriggeredTime` (hand-made seed row) reads as 0. */
export function rowFromItem(item: Item): StoredStatusRow {
  const row: Record<string, unknown> = {
    correlationId: String(item[ATTR.correlationId]),
    collection: String(item[ATTR.collection]),
    status: String(item[ATTR.status] ?? ''),
    triggeredTime: numberOf(item[ATTR.triggeredTime]) ?? 0,
  };
  const optional = {
    processedDataStart: nullableNumber(item[ATTR.processedDataStart]),
    processedDataEnd: nullableNumber(item[ATTR.processedDataEnd]),
    emrReadyTime: numberOf(item[ATTR.emrReadyTime]),
    emrClusterId: typeof item[ATTR.emrClusterId] === 'string' ? item[ATTR.emrClusterId] : undefined,
    updatedAt: numberOf(item[ATTR.updatedAt]),
    acknowledgedBy: typeof item[ATTR.acknowledgedBy] === 'string' ? item[ATTR.acknowledgedBy] : undefined,
    acknowledgedAt: numberOf(item[ATTR.acknowledgedAt]),
    reason: typeof item[ATTR.reason] === 'string' ? item[ATTR.reason] : undefined,
    owner: typeof item[ATTR.owner] === 'string' ? item[ATTR.owner] : undefined,
    outputFolder: typeof item[ATTR.outputFolder] === 'string' ? item[ATTR.outputFolder] : undefined,
    outputChecked: numberOf(item[ATTR.outputChecked]),
    publishClaim: typeof item[ATTR.publishClaim] === 'string' ? item[ATTR.publishClaim] : undefined,
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) row[k] = v;
  return row as unknown as StoredStatusRow;
}

export interface UpdateParts {
  readonly Key: Item;
  readonly UpdateExpression: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames: Record<string, string>;
  readonly ExpressionAttributeValues: Item;
}

/**
 * The conditional update behind `transition`: SET every attribute the row defines (null → NULL; undefined
 * leaves the stored value alone, so a runner does not erase the cluster id the orchestrator wrote) plus
 * `UpdatedAt`, only if the stored `JobStatus` is one of `from`, or the item is absent when `from` has undefined.
 * Every name goes through ExpressionAttributeNames: `Collection` is a DynamoDB reserved word.
 */
export function transitionUpdate(row: StatusRow, from: readonly (StoredStatus | undefined)[], now: number, guard: TransitionGuard = {}): UpdateParts {
  if (from.length === 0) throw new RangeError('transition needs at least one allowed current state');
  // DynamoDB rejects unused names and values, so each is added where it is used.
  const names: Record<string, string> = {};
  const values: Item = {};
  const sets: string[] = [];
  const fields: [string, unknown][] = [
    [ATTR.status, row.status],
    [ATTR.triggeredTime, row.triggeredTime],
    [ATTR.processedDataStart, row.processedDataStart],
    [ATTR.processedDataEnd, row.processedDataEnd],
    [ATTR.emrReadyTime, row.emrReadyTime],
    [ATTR.emrClusterId, row.emrClusterId],
    [ATTR.reason, row.reason],
    [ATTR.owner, row.owner],
    [ATTR.outputFolder, row.outputFolder],
    [ATTR.outputChecked, row.outputChecked],
    [ATTR.updatedAt, now],
  ];
  // These bookkeeping attributes are removed by null (a contract attribute's null is stored as NULL).
  const removable = new Set<string>([ATTR.reason, ATTR.owner, ATTR.outputChecked]);
  const removes: string[] = [];
  fields.forEach(([name, value], i) => {
    if (value === undefined) return;
    names[`#a${i}`] = name;
    if (value === null && removable.has(name)) {
      removes.push(`#a${i}`);
      return;
    }
    values[`:a${i}`] = value;
    sets.push(`#a${i} = :a${i}`);
  });
  const conditions: string[] = [];
  if (from.includes(undefined)) {
    names['#id'] = ATTR.correlationId;
    conditions.push('attribute_not_exists(#id)');
  }
  const states = from.filter((s): s is StoredStatus => s !== undefined);
  if (states.length > 0) {
    names['#s'] = ATTR.status;
    states.forEach((s, i) => (values[`:from${i}`] = s));
    conditions.push(`#s IN (${states.map((_, i) => `:from${i}`).join(', ')})`);
  }
  let condition = conditions.join(' OR ');
  if (guard.owner !== undefined) {
    // Only the runner that owns the row may move it on: a runner that lost its lease must not.
    names['#owner'] = ATTR.owner;
    values[':owner'] = guard.owner;
    condition = `(${condition}) AND #owner = :owner`;
  }
  if (guard.unclaimed === true) {
    names['#claim'] = ATTR.publishClaim;
    condition = `(${condition}) AND attribute_not_exists(#claim)`;
  }
  return {
    Key: keyOf(row.correlationId, row.collection),
    UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * The watermark rule: the greatest `ProcessedDataEnd` over the collection's `EMR_COMPLETED` rows, the `"000"`
 * seed row included. The greatest, not the newest run's: a completed run that found nothing stores NULL,
 * and a reprocess of an old window stores an older end; neither may move the watermark back.
 */
export function watermarkOf(rows: Iterable<Pick<StatusRow, 'status' | 'processedDataEnd'>>): number | undefined {
  let watermark: number | undefined;
  for (const row of rows) {
    if (row.status !== 'EMR_COMPLETED') continue;
    const end = row.processedDataEnd;
    if (typeof end === 'number' && (watermark === undefined || end > watermark)) watermark = end;
  }
  return watermark;
}

function numberOf(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return undefined;
}

function nullableNumber(value: unknown): number | null | undefined {
  return value === null ? null : numberOf(value);
}
