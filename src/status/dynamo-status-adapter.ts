import { BatchGetCommand, GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TransientError, type ErrorContext } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { retryPolicy, withRetry, type RetryPolicy } from '../shared/retry.js';
import { BLOCKING_STATUSES, type CollectionName } from '../shared/types.js';
import type { StatusRow, StatusStore, TransitionGuard } from '../step/ports.js';
import { isConditionFailed, statusStoreError } from './errors.js';
import {
  ATTR, BY_COLLECTION_INDEX, FAILED_STATUSES, SEED_CORRELATION_ID, keyOf, rowFromItem, transitionUpdate, watermarkOf,
  type Item, type StoredStatus, type StoredStatusRow,
} from './status-item.js';

export interface DynamoStatusStoreOptions {
  readonly tableName: string;
  readonly client: DynamoDBDocumentClient;
  readonly logger?: Logger;
  /** `Limit` of each query page; DynamoDB's own 1 MB page applies when unset. */
  readonly pageSize?: number;
  /** Clock for `UpdatedAt`. */
  readonly now?: () => number;
  /** The wait between BatchGetItem attempts (tests inject one); a timer by default. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export type AcknowledgeResult =
  | { readonly outcome: 'acknowledged'; readonly from: string; readonly to: string; readonly note?: string }
  | { readonly outcome: 'not-found' }
  | { readonly outcome: 'not-failed'; readonly status: string };

const BATCH_GET_MAX = 100;
/** States a dead runner can leave with its output unsettled (published or not): what a settle step reads. */
const UNSETTLED_STATUSES: readonly StoredStatus[] = ['EMR_PROCESSING', 'EMR_FAILED', '_EMR_FAILED'];
/** Unprocessed keys mean throttling: 6 attempts, waits from 100–200 ms doubling to 1–2 s (equal jitter). */
export const BATCH_GET_RETRY: RetryPolicy = retryPolicy({ maxAttempts: 6, baseDelayMs: 200, maxDelayMs: 2_000, jitter: 'equal' });

/** Some keys of a BatchGetItem came back unprocessed (DynamoDB throttled them): ask again for those. */
class UnprocessedKeys extends Error {}

/** The job status table (DESIGN.md §3.3) in DynamoDB. Reads are queries (never scans), every one paginated. */
export class DynamoStatusStore implements StatusStore {
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(private readonly options: DynamoStatusStoreOptions) {
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
  }

  /**
   * The watermark (see `watermarkOf`): the max `ProcessedDataEnd` of the collection's `EMR_COMPLETED` rows,
   * read through the whole GSI history (ends are not ordered by trigger time: a reprocess may come later
   * with an older end), plus the `"000"` seed row read directly, because a hand-made seed row without
   * `TriggeredTime` is absent from the (sparse) GSI.
   */
  async lastCompletedEnd(collection: CollectionName): Promise<number | undefined> {
    const completed: StatusRow[] = [];
    const [seed] = await Promise.all([
      this.get(SEED_CORRELATION_ID, collection),
      (async () => {
        for await (const items of this.queryCollection(collection, { onlyStatuses: ['EMR_COMPLETED'], newestFirst: true })) {
          completed.push(...items.map(rowFromItem));
        }
      })(),
    ]);
    if (seed !== undefined) completed.push(seed);
    const watermark = watermarkOf(completed);
    this.logger.debug({ collection, completedRuns: completed.length, watermark }, 'watermark read');
    return watermark;
  }

  async get(correlationId: string, collection: CollectionName): Promise<StoredStatusRow | undefined> {
    const answer = await this.call('GetItem', { correlationId, collection }, () =>
      this.options.client.send(new GetCommand({ TableName: this.options.tableName, Key: keyOf(correlationId, collection), ConsistentRead: true })),
    );
    return answer.Item === undefined ? undefined : rowFromItem(answer.Item);
  }

  async transition(row: StatusRow, from: readonly (StoredStatus | undefined)[], guard?: TransitionGuard): Promise<boolean> {
    const update = transitionUpdate(row, from, this.now(), guard);
    const context = { correlationId: row.correlationId, collection: row.collection, status: row.status };
    const done = await this.conditional('UpdateItem', context, () =>
      this.options.client.send(new UpdateCommand({ TableName: this.options.tableName, ...update })),
    );
    this.logger.debug({ ...context, from: from.map((s) => s ?? '(absent)').join('|'), done }, 'status transition');
    return done;
  }

  async unsettledRows(collection: CollectionName): Promise<StoredStatusRow[]> {
    const keys: Item[] = [];
    for await (const items of this.queryCollection(collection, { onlyStatuses: UNSETTLED_STATUSES, newestFirst: true })) keys.push(...items);
    return (await this.fullRows(keys)).filter((row) => row.outputChecked === undefined);
  }

  async touch(correlationId: string, collection: CollectionName, owner: string): Promise<boolean> {
    return this.conditional('UpdateItem', { correlationId, collection, owner }, () =>
      this.options.client.send(new UpdateCommand({
        TableName: this.options.tableName,
        Key: keyOf(correlationId, collection),
        UpdateExpression: 'SET #u = :u',
        ConditionExpression: '#s = :processing AND #o = :o',
        ExpressionAttributeNames: { '#u': ATTR.updatedAt, '#s': ATTR.status, '#o': ATTR.owner },
        ExpressionAttributeValues: { ':u': this.now(), ':processing': 'EMR_PROCESSING', ':o': owner },
      })),
    );
  }

  async claimPublication(correlationId: string, collection: CollectionName, owner: string): Promise<boolean> {
    const claimed = await this.conditional('UpdateItem', { correlationId, collection, owner, operation: 'claim publication' }, () =>
      this.options.client.send(new UpdateCommand({
        TableName: this.options.tableName,
        Key: keyOf(correlationId, collection),
        UpdateExpression: 'SET #claim = :o, #u = :u',
        ConditionExpression: '#s = :processing AND #o = :o AND attribute_not_exists(#checked) AND (attribute_not_exists(#claim) OR #claim = :o)',
        ExpressionAttributeNames: { '#claim': ATTR.publishClaim, '#u': ATTR.updatedAt, '#s': ATTR.status, '#o': ATTR.owner, '#checked': ATTR.outputChecked },
        ExpressionAttributeValues: { ':o': owner, ':u': this.now(), ':processing': 'EMR_PROCESSING' },
      })),
    );
    this.logger.debug({ correlationId, collection, owner, claimed }, 'publication claim');
    return claimed;
  }

  /** The collection's latest runs, newest `TriggeredTime` first, as full rows. */
  async latestRuns(collection: CollectionName, limit: number): Promise<StoredStatusRow[]> {
    const keys: Item[] = [];
    for await (const items of this.queryCollection(collection, { newestFirst: true, limit })) {
      keys.push(...items);
      if (keys.length >= limit) break;
    }
    return this.fullRows(keys.slice(0, limit));
  }

  /**
   * The newest `EMR_COMPLETED` run (by `TriggeredTime`) that saw data (`ProcessedDataEnd` not NULL), as a full row;
   * the `"000"` seed row is not a run. Undefined when no run ever published a record.
   */
  async lastRunWithData(collection: CollectionName): Promise<StoredStatusRow | undefined> {
    for await (const items of this.queryCollection(collection, { onlyStatuses: ['EMR_COMPLETED'], newestFirst: true })) {
      const found = items.map(rowFromItem).find((r) => typeof r.processedDataEnd === 'number' && r.correlationId !== SEED_CORRELATION_ID);
      if (found !== undefined) return (await this.fullRows([keyOf(found.correlationId, found.collection)]))[0] ?? found;
    }
    return undefined;
  }

  /** Rows of the collection whose status still blocks a launch (BLOCKING_STATUSES), newest first, full rows. */
  async blockingRows(collection: CollectionName): Promise<StoredStatusRow[]> {
    const keys: Item[] = [];
    for await (const items of this.queryCollection(collection, { onlyStatuses: [...BLOCKING_STATUSES], newestFirst: true })) {
      keys.push(...items);
    }
    return this.fullRows(keys);
  }

  /** Every collection's row of one run. */
  async rowsOf(correlationId: string): Promise<StoredStatusRow[]> {
    const rows: StoredStatusRow[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.call('Query', { correlationId }, () =>
        this.options.client.send(new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: '#id = :id',
          ExpressionAttributeNames: { '#id': ATTR.correlationId },
          ExpressionAttributeValues: { ':id': correlationId },
          ExclusiveStartKey: startKey,
          Limit: this.options.pageSize,
        })),
      );
      rows.push(...(page.Items ?? []).map(rowFromItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return rows;
  }

  /**
   * An operator's acknowledgement of a failed run: `EMR_FAILED` → `_EMR_FAILED` (likewise `LAMBDA_FAILED`),
   * recording who and when. Conditional on the status read just before, so it never hides a newer state.
   */
  async acknowledge(correlationId: string, collection: CollectionName, who: string, at: number, stale?: { readonly staleAfterMs: number; readonly why: string }): Promise<AcknowledgeResult> {
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const row = await this.get(correlationId, collection);
      if (row === undefined) return { outcome: 'not-found' };
      // A stale in-flight row is cleared only while nothing renewed it since it was judged stale.
      const clearsStale = stale !== undefined && row.status === 'EMR_PROCESSING' && row.emrClusterId === undefined
        && at - (row.updatedAt ?? row.triggeredTime) > stale.staleAfterMs;
      if (!FAILED_STATUSES.has(row.status) && !clearsStale) return { outcome: 'not-failed', status: row.status };
      const to = clearsStale ? '_EMR_FAILED' : `_${row.status}`;
      const names: Record<string, string> = { '#s': ATTR.status, '#by': ATTR.acknowledgedBy, '#at': ATTR.acknowledgedAt, '#u': ATTR.updatedAt };
      const values: Item = { ':to': to, ':from': row.status, ':by': who, ':at': at, ':u': this.now() };
      let set = 'SET #s = :to, #by = :by, #at = :at, #u = :u';
      let condition = '#s = :from';
      if (clearsStale) {
        names['#why'] = ATTR.reason;
        values[':why'] = `cleared by ${who}: ${stale.why}`;
        values[':seen'] = row.updatedAt ?? null;
        set += ', #why = :why';
        condition += row.updatedAt === undefined ? ' AND attribute_not_exists(#u)' : ' AND #u = :seen';
        if (row.updatedAt === undefined) delete values[':seen'];
      }
      const done = await this.conditional('UpdateItem', { correlationId, collection, status: to }, () =>
        this.options.client.send(new UpdateCommand({
          TableName: this.options.tableName,
          Key: keyOf(correlationId, collection),
          UpdateExpression: set,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        })),
      );
      if (done) return { outcome: 'acknowledged', from: row.status, to, ...(clearsStale ? { note: `cleared a stale in-flight row: ${stale.why}` } : {}) };
    }
    throw new TransientError(`status of ${correlationId}/${collection} kept changing while acknowledging it`, {
      context: { table: this.options.tableName, correlationId, collection },
    });
  }

  /** Pages of the GSI for one collection (keys and projected attributes), following LastEvaluatedKey. */
  private async *queryCollection(
    collection: CollectionName,
    query: { onlyStatuses?: readonly string[]; newestFirst: boolean; limit?: number },
  ): AsyncGenerator<Item[]> {
    const names: Record<string, string> = { '#c': ATTR.collection };
    const values: Item = { ':c': collection };
    let filter: string | undefined;
    if (query.onlyStatuses !== undefined) {
      names['#s'] = ATTR.status;
      query.onlyStatuses.forEach((s, i) => (values[`:s${i}`] = s));
      filter = `#s IN (${query.onlyStatuses.map((_, i) => `:s${i}`).join(', ')})`;
    }
    const pageSize = Math.min(this.options.pageSize ?? Number.MAX_SAFE_INTEGER, query.limit ?? Number.MAX_SAFE_INTEGER);
    let startKey: Item | undefined;
    let pages = 0;
    do {
      const page = await this.call('Query', { collection, index: BY_COLLECTION_INDEX }, () =>
        this.options.client.send(new QueryCommand({
          TableName: this.options.tableName,
          IndexName: BY_COLLECTION_INDEX,
          KeyConditionExpression: '#c = :c',
          FilterExpression: filter,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: !query.newestFirst,
          ExclusiveStartKey: startKey,
          Limit: pageSize === Number.MAX_SAFE_INTEGER ? undefined : pageSize,
        })),
      );
      pages += 1;
      startKey = page.LastEvaluatedKey;
      yield page.Items ?? [];
    } while (startKey !== undefined);
    this.logger.debug({ collection, pages }, 'status index read');
  }

  /** Full items for keys read from the GSI (which projects only three attributes), in the keys' order. */
  private async fullRows(keys: readonly Item[]): Promise<StoredStatusRow[]> {
    const table = this.options.tableName;
    const id = (item: Item): string => JSON.stringify([item[ATTR.correlationId], item[ATTR.collection]]);
    const found = new Map<string, Item>();
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
      let pending: Item[] = keys.slice(i, i + BATCH_GET_MAX).map((k) => keyOf(String(k[ATTR.correlationId]), String(k[ATTR.collection])));
      await withRetry(BATCH_GET_RETRY, async () => {
        const keysNow = pending;
        const answer = await this.call('BatchGetItem', { keys: keysNow.length }, () =>
          this.options.client.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keysNow, ConsistentRead: true } } })),
        );
        for (const item of answer.Responses?.[table] ?? []) found.set(id(item), item);
        pending = (answer.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
        if (pending.length > 0) throw new UnprocessedKeys();
      }, {
        // Only unprocessed keys are asked again here; a failed call is the SDK's to retry (it already did).
        retryable: (e) => e instanceof UnprocessedKeys,
        exhausted: (_e, attempts) => new TransientError(`status table ${table}: ${pending.length} keys stayed unprocessed by BatchGetItem`, { context: { table, attempts } }),
        sleep: this.options.sleep,
      });
    }
    // A row deleted between the query and the read is simply not returned.
    return keys.flatMap((k) => {
      const item = found.get(id(k));
      return item === undefined ? [] : [rowFromItem(item)];
    });
  }

  /** A conditional write: false when the condition did not hold. */
  private async conditional(operation: string, context: ErrorContext, send: () => Promise<unknown>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (e) {
      if (isConditionFailed(e)) return false;
      throw statusStoreError(e, operation, { table: this.options.tableName, ...context });
    }
  }

  private async call<T>(operation: string, context: ErrorContext, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (e) {
      throw statusStoreError(e, operation, { table: this.options.tableName, ...context });
    }
  }
}
