import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStatusTable } from '../../src/local/aws-resources.js';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { LAUNCH_LOCK_COLLECTION, LAUNCH_LOCK_ID, LOCK_ATTR } from '../../src/status/launch-lock.js';
import { DynamoLaunchLock } from '../../src/status/launch-lock-adapter.js';
import { localStack } from '../support/local-stack.js';

const stack = localStack();
const client = new DynamoDBClient({ endpoint: stack.awsEndpointUrl, region: stack.awsRegion, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
const doc = DynamoDBDocumentClient.from(client);
const table = `lock-it-${randomBytes(4).toString('hex')}`;
const T = 1_800_000_000_000;

beforeAll(async () => {
  await ensureStatusTable(client, table);
});
afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: table }));
  client.destroy();
});

describe('the launch lock in the status table (DynamoDB conditional writes, moto)', () => {
  const lock = new DynamoLaunchLock({ tableName: table, client: doc });

  it('has one holder at a time; only the holder renews, records and releases', async () => {
    expect(await lock.acquire('run-a', T, 60_000)).toEqual({ acquired: true });
    expect(await lock.acquire('run-b', T + 1, 60_000)).toEqual({ acquired: false, holder: 'run-a', expiresAt: T + 60_000 });
    // A retried acquire by the holder succeeds (idempotent).
    expect((await lock.acquire('run-a', T + 2, 60_000)).acquired).toBe(true);
    expect(await lock.renew('run-b', T + 3, 60_000)).toBe(false);
    expect(await lock.recordLaunch('run-b', { clusterId: 'j-B', correlationId: 'run-b', at: T })).toBe(false);
    expect(await lock.release('run-b')).toBe(false);
    expect(await lock.renew('run-a', T + 3, 60_000)).toBe(true);
    expect(await lock.recordLaunch('run-a', { clusterId: 'j-A', correlationId: 'run-a', at: T + 4 })).toBe(true);
    expect(await lock.release('run-a')).toBe(true);
    expect(await lock.acquire('run-b', T + 5, 60_000)).toEqual({ acquired: true, lastLaunch: { clusterId: 'j-A', correlationId: 'run-a', at: T + 4 } });
    expect(await lock.release('run-b')).toBe(true);
  });

  it('is a lease: once expired another trigger takes it, and the old holder is fenced out', async () => {
    expect((await lock.acquire('run-c', T + 10, 1_000)).acquired).toBe(true);
    expect((await lock.acquire('run-d', T + 500, 1_000)).acquired).toBe(false);
    expect((await lock.acquire('run-d', T + 1_011, 1_000)).acquired).toBe(true);
    expect(await lock.renew('run-c', T + 1_012, 1_000)).toBe(false);
    expect(await lock.recordLaunch('run-c', { clusterId: 'j-C', correlationId: 'run-c', at: T })).toBe(false);
    expect(await lock.release('run-c')).toBe(false);
    expect(await lock.release('run-d')).toBe(true);
  });

  it('stays out of the collections index and has no JobStatus, so status readers never see it', async () => {
    const item = await lock.read();
    expect(item).toMatchObject({ CorrelationId: LAUNCH_LOCK_ID, Collection: LAUNCH_LOCK_COLLECTION });
    expect(item?.JobStatus).toBeUndefined();
    expect(item?.TriggeredTime).toBeUndefined();
    expect(item?.[LOCK_ATTR.owner]).toBeUndefined();
    const store = new DynamoStatusStore({ tableName: table, client: doc });
    expect(await store.latestRuns(LAUNCH_LOCK_COLLECTION, 10)).toEqual([]);
    expect(await store.blockingRows(LAUNCH_LOCK_COLLECTION)).toEqual([]);
  });
});
