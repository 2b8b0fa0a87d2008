import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStatusTable } from '../../src/local/aws-resources.js';
import { ConfigError, TransientError } from '../../src/shared/errors.js';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import type { StatusRow } from '../../src/step/ports.js';

const endpoint = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
const client = new DynamoDBClient({ endpoint, region: 'eu-west-2', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const doc = DynamoDBDocumentClient.from(client);
const table = `status-it-${randomBytes(4).toString('hex')}`;
const T = Date.UTC(2026, 0, 5, 10, 30);
let suffix = 0;
const freshCollection = (): string => `it${(suffix += 1)}:coll_${randomBytes(3).toString('hex')}`;

/** A document client that counts the queries sent through it. */
function countingClient(): { client: DynamoDBDocumentClient; queries: () => number } {
  let queries = 0;
  const counting = {
    send: (command: { constructor: { name: string } }) => {
      if (command.constructor.name === 'QueryCommand') queries += 1;
      return doc.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client: counting, queries: () => queries };
}

/**
 * A document client that throttles BatchGetItem as DynamoDB does: on the first `throttled` answers the first key
 * asked for is held back (not sent to moto) and returned in `UnprocessedKeys`; everything else goes to moto.
 */
function throttlingClient(throttled: number): { client: DynamoDBDocumentClient; batchGets: () => number } {
  let batchGets = 0;
  const throttling = {
    send: async (command: { constructor: { name: string }; input: unknown }) => {
      if (command.constructor.name !== 'BatchGetCommand') return doc.send(command as never);
      batchGets += 1;
      const keys = (command.input as { RequestItems: Record<string, { Keys: Record<string, unknown>[] }> }).RequestItems[table]!.Keys;
      if (batchGets > throttled || keys.length === 0) return doc.send(command as never);
      const [held, ...rest] = keys;
      const answer = rest.length === 0 ? { Responses: { [table]: [] } } : await doc.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: rest, ConsistentRead: true } } }));
      return { ...answer, UnprocessedKeys: { [table]: { Keys: [held] } } };
    },
  } as unknown as DynamoDBDocumentClient;
  return { client: throttling, batchGets: () => batchGets };
}

async function putItems(items: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    const chunk = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    const answer = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: chunk } }));
    expect(answer.UnprocessedItems?.[table] ?? []).toEqual([]);
  }
}

const store = (pageSize?: number): DynamoStatusStore => new DynamoStatusStore({ tableName: table, client: doc, pageSize, now: () => 42 });

beforeAll(async () => {
  await ensureStatusTable(client, table);
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: table }));
  client.destroy();
});

describe('DynamoStatusStore.transition', () => {
  const row = (collection: string, status: StatusRow['status'], extra: Partial<StatusRow> = {}): StatusRow =>
    ({ correlationId: 'run-1', collection, status, triggeredTime: T, ...extra });

  it('follows the run lifecycle and refuses a stale runner and a duplicate completion', async () => {
    const c = freshCollection();
    const s = store();
    expect(await s.transition(row(c, 'EMR_LAUNCHED', { emrClusterId: 'j-ABC' }), [undefined])).toBe(true);
    expect(await s.transition(row(c, 'EMR_LAUNCHED'), [undefined])).toBe(false);
    expect(await s.transition(row(c, 'EMR_PROCESSING', { processedDataStart: 1 }), ['EMR_LAUNCHED'])).toBe(true);
    expect(await s.transition(row(c, 'EMR_COMPLETED', { processedDataEnd: T - 5000 }), ['EMR_PROCESSING'])).toBe(true);
    // A stale runner (say, a retried step) must not drag a completed run back to processing.
    expect(await s.transition(row(c, 'EMR_PROCESSING'), ['EMR_LAUNCHED', 'EMR_PROCESSING'])).toBe(false);
    expect(await s.transition(row(c, 'EMR_COMPLETED', { processedDataEnd: T }), ['EMR_PROCESSING'])).toBe(false);
    expect(await s.get('run-1', c)).toEqual({
      correlationId: 'run-1', collection: c, status: 'EMR_COMPLETED', triggeredTime: T,
      processedDataStart: 1, processedDataEnd: T - 5000, emrClusterId: 'j-ABC', updatedAt: 42,
    });
  });

  it('stores a null ProcessedDataEnd as the NULL type', async () => {
    const c = freshCollection();
    expect(await store().transition(row(c, 'EMR_COMPLETED', { processedDataEnd: null }), [undefined])).toBe(true);
    const raw = await client.send(new GetItemCommand({ TableName: table, Key: { CorrelationId: { S: 'run-1' }, Collection: { S: c } } }));
    expect(raw.Item?.ProcessedDataEnd).toEqual({ NULL: true });
    expect(raw.Item?.TriggeredTime).toEqual({ N: String(T) });
  });

  it('does not create a row when the row must already exist', async () => {
    const c = freshCollection();
    expect(await store().transition(row(c, 'EMR_PROCESSING'), ['EMR_LAUNCHED'])).toBe(false);
    expect(await store().get('run-1', c)).toBeUndefined();
  });
});

describe('DynamoStatusStore.lastCompletedEnd', () => {
  it('is the greatest completed end over more than one page of the index, whatever the order of runs', async () => {
    const c = freshCollection();
    const items = Array.from({ length: 150 }, (_, i) => ({
      CorrelationId: `run-${i}`, Collection: c, TriggeredTime: T + i * 60_000,
      JobStatus: i % 5 === 0 ? 'EMR_FAILED' : 'EMR_COMPLETED',
      // Run 3 (old) holds the greatest end; the newest run found nothing (NULL).
      ProcessedDataEnd: i === 149 || i % 7 === 0 ? null : i === 3 ? T + 10_000_000 : T + i,
    }));
    items.push({ CorrelationId: 'run-failed-late', Collection: c, TriggeredTime: T + 999 * 60_000, JobStatus: 'EMR_FAILED', ProcessedDataEnd: T + 99_000_000 });
    await putItems(items);
    const counting = countingClient();
    const s = new DynamoStatusStore({ tableName: table, client: counting.client, pageSize: 7 });
    expect(await s.lastCompletedEnd(c)).toBe(T + 10_000_000);
    expect(counting.queries()).toBeGreaterThanOrEqual(Math.ceil(151 / 7));
  });

  it('ignores a newer completed run with a NULL end', async () => {
    const c = freshCollection();
    await putItems([
      { CorrelationId: 'a', Collection: c, TriggeredTime: T, JobStatus: 'EMR_COMPLETED', ProcessedDataEnd: T - 100 },
      { CorrelationId: 'b', Collection: c, TriggeredTime: T + 1, JobStatus: 'EMR_COMPLETED', ProcessedDataEnd: null },
    ]);
    expect(await store().lastCompletedEnd(c)).toBe(T - 100);
  });

  it('counts a hand-made "000" seed row without TriggeredTime, which the index does not hold', async () => {
    const c = freshCollection();
    await doc.send(new PutCommand({ TableName: table, Item: { CorrelationId: '000', Collection: c, JobStatus: 'EMR_COMPLETED', ProcessedDataEnd: T + 7 } }));
    expect(await store().lastCompletedEnd(c)).toBe(T + 7);
    expect(await store().latestRuns(c, 10)).toEqual([]); // proves it is not in the (sparse) GSI
    await putItems([{ CorrelationId: 'later', Collection: c, TriggeredTime: T + 60_000, JobStatus: 'EMR_COMPLETED', ProcessedDataEnd: T + 50 }]);
    expect(await store().lastCompletedEnd(c)).toBe(T + 50);
  });

  it('is undefined for a collection without completed runs', async () => {
    const c = freshCollection();
    await putItems([{ CorrelationId: 'x', Collection: c, TriggeredTime: T, JobStatus: 'EMR_FAILED', ProcessedDataEnd: T }]);
    expect(await store().lastCompletedEnd(c)).toBeUndefined();
    expect(await store().lastCompletedEnd(freshCollection())).toBeUndefined();
  });
});

describe('DynamoStatusStore queries', () => {
  const c = freshCollection();
  const statuses = ['EMR_COMPLETED', 'EMR_FAILED', '_EMR_FAILED', 'DEFERRED', 'WAITING', 'EMR_PROCESSING', 'LAMBDA_FAILED', 'EMR_COMPLETED'];

  beforeAll(async () => {
    await putItems(statuses.map((JobStatus, i) => ({
      CorrelationId: `q-${i}`, Collection: c, TriggeredTime: T + i * 1000, JobStatus, EMRClusterId: `j-${i}`, ProcessedDataEnd: null,
    })));
    await putItems([{ CorrelationId: 'q-1', Collection: `${c}_other`, TriggeredTime: T, JobStatus: 'EMR_FAILED' }]);
  });

  it('blockingRows: only blocking statuses, newest first, as full rows (cluster id is not in the index)', async () => {
    const rows = await store(2).blockingRows(c);
    expect(rows.map((r) => [r.correlationId, r.status, r.emrClusterId])).toEqual([
      ['q-6', 'LAMBDA_FAILED', 'j-6'], ['q-5', 'EMR_PROCESSING', 'j-5'], ['q-4', 'WAITING', 'j-4'], ['q-1', 'EMR_FAILED', 'j-1'],
    ]);
  });

  it('latestRuns: the newest runs first, limited, across pages', async () => {
    const rows = await store(2).latestRuns(c, 3);
    expect(rows.map((r) => r.correlationId)).toEqual(['q-7', 'q-6', 'q-5']);
    expect(rows[0]?.emrClusterId).toBe('j-7');
  });

  it('rowsOf: every collection of one run', async () => {
    const rows = await store(1).rowsOf('q-1');
    expect(rows.map((r) => r.collection).sort()).toEqual([c, `${c}_other`].sort());
  });

  it('acknowledge: a failed state becomes its _ form once, with who and when, and stops blocking', async () => {
    const s = store();
    expect(await s.acknowledge('q-1', c, 'ops@example', T + 5)).toEqual({ outcome: 'acknowledged', from: 'EMR_FAILED', to: '_EMR_FAILED' });
    expect(await s.acknowledge('q-1', c, 'ops@example', T + 6)).toEqual({ outcome: 'not-failed', status: '_EMR_FAILED' });
    expect(await s.acknowledge('q-0', c, 'ops@example', T + 6)).toEqual({ outcome: 'not-failed', status: 'EMR_COMPLETED' });
    expect(await s.acknowledge('nope', c, 'ops@example', T + 6)).toEqual({ outcome: 'not-found' });
    expect(await s.get('q-1', c)).toMatchObject({ status: '_EMR_FAILED', acknowledgedBy: 'ops@example', acknowledgedAt: T + 5, updatedAt: 42 });
    expect((await s.blockingRows(c)).map((r) => r.correlationId)).not.toContain('q-1');
  });
});

describe('DynamoStatusStore when BatchGetItem is throttled', () => {
  const c = freshCollection();
  beforeAll(async () => {
    await putItems([0, 1, 2].map((i) => ({ CorrelationId: `t-${i}`, Collection: c, TriggeredTime: T + i, JobStatus: 'EMR_COMPLETED', EMRClusterId: `j-${i}` })));
  });
  const throttledStore = (throttled: number) => {
    const waits: number[] = [];
    const throttling = throttlingClient(throttled);
    const s = new DynamoStatusStore({ tableName: table, client: throttling.client, sleep: async (ms) => { waits.push(ms); } });
    return { store: s, waits, batchGets: throttling.batchGets };
  };
  // Equal jitter: the n-th wait is in [ceiling/2, ceiling), the ceiling 200 ms doubling to 2 s.
  const ceilings = [200, 400, 800, 1_600, 2_000];

  it('asks again for the unprocessed keys, waiting longer each time, until every row is read', async () => {
    const { store: s, waits, batchGets } = throttledStore(2);
    expect((await s.latestRuns(c, 3)).map((r) => [r.correlationId, r.emrClusterId])).toEqual([['t-2', 'j-2'], ['t-1', 'j-1'], ['t-0', 'j-0']]);
    expect(batchGets()).toBe(3);
    expect(waits).toHaveLength(2);
    waits.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(ceilings[i]! / 2);
      expect(ms).toBeLessThan(ceilings[i]!);
    });
  });

  it('gives up after 6 BatchGetItem attempts with a TransientError saying how many keys stayed unprocessed', async () => {
    const { store: s, waits, batchGets } = throttledStore(Infinity);
    const error = await s.latestRuns(c, 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toBe(`status table ${table}: 1 keys stayed unprocessed by BatchGetItem`);
    expect((error as TransientError).context).toEqual({ table, attempts: 6 });
    expect(batchGets()).toBe(6);
    expect(waits).toHaveLength(5);
    waits.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(ceilings[i]! / 2);
      expect(ms).toBeLessThan(ceilings[i]!);
    });
  });
});

describe('DynamoStatusStore errors', () => {
  it('reports a missing table as a configuration error naming it', async () => {
    const s = new DynamoStatusStore({ tableName: `${table}-missing`, client: doc });
    await expect(s.lastCompletedEnd('a:b')).rejects.toThrow(ConfigError);
    await expect(s.get('x', 'a:b')).rejects.toThrow(`status table ${table}-missing`);
  });
});
