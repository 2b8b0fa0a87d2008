import { randomBytes } from 'node:crypto';
import { DescribeClusterCommand, EMRClient, RunJobFlowCommand, TerminateJobFlowsCommand } from '@aws-sdk/client-emr';
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteBucketPolicyCommand, DeleteObjectsCommand, ListObjectsV2Command, PutBucketPolicyCommand,
  PutObjectCommand, S3Client,
} from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmrAdapter } from '../../src/orchestrator/emr/emr-adapter.js';
import {
  ClusterStillRunningError, MetadataPurgeIncompleteError, purgeClusterMetadata, type PurgePorts, type PurgeSettings,
} from '../../src/orchestrator/purge/index.js';
import { createS3MetadataObjects } from '../../src/orchestrator/purge/s3-metadata-adapter.js';
import { createPurgeHandler, handler } from '../../src/handlers/purge-metadata.js';
import { silentLogger } from '../../src/shared/logger.js';

const endpoint = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
const region = 'eu-west-2';
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const s3 = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
const emr = new EMRClient({ endpoint, region, credentials });
const suffix = randomBytes(4).toString('hex');
const bucket = `purge-it-${suffix}`;
/** Our clusters in this file are named under a prefix of their own; none carries the launch guard's tag and name together. */
const prefix = `ingest-replica-purge-it-${suffix}`;
const meta = (clusterId: string): string => `hbase/data/hbase/meta_${clusterId}`;
const settings: PurgeSettings = { root: { bucket, prefix: 'hbase' }, ownership: { namePrefix: prefix, tag: { key: 'Application', value: 'ingest-replica' } } };
const running: string[] = [];

/** An S3 client that records each DeleteObjects batch size and counts the list calls sent through it. */
function countingS3(): { client: S3Client; deletes: number[]; lists: () => number } {
  const deletes: number[] = [];
  let lists = 0;
  const client = {
    send: (command: { constructor: { name: string }; input: { Delete?: { Objects?: unknown[] } } }) => {
      if (command.constructor.name === 'DeleteObjectsCommand') deletes.push(command.input.Delete?.Objects?.length ?? 0);
      if (command.constructor.name === 'ListObjectsV2Command') lists += 1;
      return s3.send(command as never);
    },
  } as unknown as S3Client;
  return { client, deletes, lists: () => lists };
}

function ports(client: S3Client = s3, pageSize?: number): PurgePorts {
  return { clusters: new EmrAdapter({ client: emr }), objects: createS3MetadataObjects({ s3: client, bucket, pageSize }), logger: silentLogger };
}

async function launch(name: string, options: { alive?: boolean; tags?: Record<string, string> } = {}): Promise<string> {
  const { JobFlowId } = await emr.send(new RunJobFlowCommand({
    Name: name,
    ReleaseLabel: 'emr-7.9.0',
    Instances: { MasterInstanceType: 'm5.xlarge', SlaveInstanceType: 'm5.xlarge', InstanceCount: 1, KeepJobFlowAliveWhenNoSteps: options.alive === true },
    JobFlowRole: 'EMR_EC2_DefaultRole',
    ServiceRole: 'EMR_DefaultRole',
    Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
  }));
  if (JobFlowId === undefined) throw new Error('RunJobFlow gave no id');
  if (options.alive === true) running.push(JobFlowId);
  return JobFlowId;
}

async function state(clusterId: string): Promise<string | undefined> {
  return (await emr.send(new DescribeClusterCommand({ ClusterId: clusterId }))).Cluster?.Status?.State;
}

async function put(keys: readonly string[]): Promise<void> {
  const limit = pLimit(16);
  await Promise.all(keys.map((Key) => limit(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: 'x' })))));
}

async function keysUnder(prefixKey: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefixKey, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key as string));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

const files = (folder: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${folder}/hbase/meta/1588230740/info/hfile-${String(i).padStart(5, '0')}`);

let ours: string;
let foreign: string;
let untouched: string[];

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: region } }));
  ours = await launch(`${prefix}-incremental-a`);
  foreign = await launch(`someone-else-${suffix}`);
  // What must survive every purge here: a cluster id that extends ours, a foreign cluster's folder, the
  // primary's own hbase:meta, other tables, and a folder of the same name outside the HBase root.
  untouched = [
    ...files(`${meta(ours)}0`, 3), `${meta(ours)}0`, `${meta(ours)}0_$folder$`,
    ...files(meta(foreign), 3),
    'hbase/data/hbase/meta/1588230740/info/primary-hfile', 'hbase/data/core/addresses/region/cf/hfile', 'hbase/hbase.version',
    `elsewhere/data/hbase/meta_${ours}/hfile`,
  ];
  await put([...files(meta(ours), 2100), meta(ours), `${meta(ours)}_$folder$`, ...untouched]);
}, 300_000);

afterAll(async () => {
  if (running.length > 0) await emr.send(new TerminateJobFlowsCommand({ JobFlowIds: running }));
  await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket })).catch(() => undefined);
  const left = await keysUnder('');
  for (let i = 0; i < left.length; i += 1000) {
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: left.slice(i, i + 1000).map((Key) => ({ Key })) } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  s3.destroy();
  emr.destroy();
});

describe('purgeClusterMetadata against moto', () => {
  it('deletes exactly a terminated cluster\'s meta folder, over several list pages, in batches of at most 1000', async () => {
    expect(await state(ours)).toBe('TERMINATED');
    const counting = countingS3();
    const result = await purgeClusterMetadata({ clusterId: ours }, ports(counting.client, 500), settings);
    expect(result).toMatchObject({
      outcome: 'purged', clusterId: ours, state: 'TERMINATED', bucket, folder: `${meta(ours)}/`, deleted: 2102, deleteCalls: 3, failures: [], dryRun: false,
    });
    expect(counting.deletes).toEqual([1000, 1000, 102]);
    expect(counting.lists()).toBeGreaterThanOrEqual(6); // 2100 keys in pages of 500, then the markers' level
    expect(await keysUnder(meta(ours))).toEqual(untouched.filter((k) => k.startsWith(meta(ours))).sort());
    expect(await keysUnder('')).toEqual([...untouched].sort());
  });

  it('deletes nothing on a second run', async () => {
    const counting = countingS3();
    expect(await purgeClusterMetadata({ clusterId: ours }, ports(counting.client), settings)).toMatchObject({ outcome: 'purged', deleted: 0, deleteCalls: 0 });
    expect(counting.deletes).toEqual([]);
    expect(await keysUnder('')).toEqual([...untouched].sort());
  });

  it('ignores a cluster that is not ours, and one EMR does not know, deleting nothing', async () => {
    const result = await purgeClusterMetadata({ clusterId: foreign }, ports(), settings);
    expect(result).toMatchObject({ outcome: 'ignored', clusterId: foreign });
    expect(result.outcome === 'ignored' && result.reason).toContain('is not ours');
    expect(await purgeClusterMetadata({ clusterId: 'j-NOSUCHCLUSTER1' }, ports(), settings)).toMatchObject({ outcome: 'ignored' });
    expect(await keysUnder(meta(foreign))).toHaveLength(3);
  });

  it('recognises a cluster of ours by its tag alone, and a dry run deletes nothing', async () => {
    const tagged = await launch(`renamed-${suffix}`, { tags: { Application: 'ingest-replica' } });
    await put(files(meta(tagged), 7));
    expect(await purgeClusterMetadata({ clusterId: tagged, dryRun: true }, ports(), settings)).toMatchObject({ outcome: 'purged', deleted: 7, deleteCalls: 0, dryRun: true });
    expect(await keysUnder(meta(tagged))).toHaveLength(7);
    expect(await purgeClusterMetadata({ clusterId: tagged }, ports(), settings)).toMatchObject({ outcome: 'purged', deleted: 7 });
    expect(await keysUnder(meta(tagged))).toEqual([]);
  });

  it('refuses a cluster that still runs: its replica still uses the folder', async () => {
    const live = await launch(`${prefix}-admin-live`, { alive: true });
    await put(files(meta(live), 2));
    expect(await state(live)).toBe('WAITING');
    await expect(purgeClusterMetadata({ clusterId: live }, ports(), settings)).rejects.toThrow(ClusterStillRunningError);
    expect(await keysUnder(meta(live))).toHaveLength(2);
    await emr.send(new TerminateJobFlowsCommand({ JobFlowIds: [live] }));
    expect(await purgeClusterMetadata({ clusterId: live }, ports(), settings)).toMatchObject({ outcome: 'purged', deleted: 2 });
  });

  it('reports each object S3 refuses to delete, and deletes the rest', async () => {
    const locked = await launch(`${prefix}-incremental-locked`);
    await put([...files(meta(locked), 4), `${meta(locked)}/locked/a`, `${meta(locked)}/locked/b`]);
    await s3.send(new PutBucketPolicyCommand({
      Bucket: bucket,
      Policy: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${bucket}/${meta(locked)}/locked/*` }],
      }),
    }));
    try {
      const result = await purgeClusterMetadata({ clusterId: locked }, ports(), settings);
      expect(result).toMatchObject({ outcome: 'purged', deleted: 4 });
      expect(result.outcome === 'purged' && result.failures.map((f) => [f.key, f.code])).toEqual([
        [`${meta(locked)}/locked/a`, 'AccessDenied'], [`${meta(locked)}/locked/b`, 'AccessDenied'],
      ]);
      // The handler fails the invocation so that Lambda retries it.
      const purge = createPurgeHandler(handlerEnv(), silentLogger);
      await expect(purge(eventBridgeEvent(locked, 'TERMINATED'))).rejects.toThrow(MetadataPurgeIncompleteError);
    } finally {
      await s3.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
    }
    expect(await purgeClusterMetadata({ clusterId: locked }, ports(), settings)).toMatchObject({ outcome: 'purged', deleted: 2, failures: [] });
  });
});

function handlerEnv(): NodeJS.ProcessEnv {
  return { AWS_ENDPOINT_URL: endpoint, AWS_REGION: region, INGEST_HBASE_ROOT_DIR: `s3://${bucket}/hbase`, INGEST_CLUSTER_NAME_PREFIX: prefix, LOG_LEVEL: 'warn' };
}

/** The EMR "cluster state change" event, as EventBridge delivers it. */
function eventBridgeEvent(clusterId: string, clusterState: string): Record<string, unknown> {
  return {
    version: '0', id: randomBytes(8).toString('hex'), 'detail-type': 'EMR Cluster State Change', source: 'aws.emr', account: '123456789012',
    time: new Date().toISOString(), region, resources: [],
    detail: { severity: 'INFO', stateChangeReason: '{"code":"ALL_STEPS_COMPLETED"}', name: 'x', clusterId, state: clusterState, message: 'm' },
  };
}

const snsWrapped = (...events: Record<string, unknown>[]): Record<string, unknown> => ({
  Records: events.map((e) => ({ EventSource: 'aws:sns', EventVersion: '1.0', Sns: { Type: 'Notification', Message: JSON.stringify(e) } })),
});

describe('the purge-metadata Lambda handler', () => {
  it('purges on a TERMINATED event straight from EventBridge, and skips other states', async () => {
    const done = await launch(`${prefix}-incremental-eb`);
    await put(files(meta(done), 5));
    const purge = createPurgeHandler(handlerEnv(), silentLogger);
    const skipped = await purge(eventBridgeEvent(done, 'STARTING'));
    expect(skipped).toMatchObject({ deleted: 0, results: [{ outcome: 'skipped', clusterId: done }] });
    expect(await keysUnder(meta(done))).toHaveLength(5);
    const summary = await purge(eventBridgeEvent(done, 'TERMINATED'));
    expect(summary).toMatchObject({ deleted: 5, failed: 0, results: [{ outcome: 'purged', clusterId: done, deleted: 5 }] });
    expect(await keysUnder(meta(done))).toEqual([]);
  });

  it('purges every TERMINATED_WITH_ERRORS event wrapped in SNS, through the exported handler configured from the environment', async () => {
    const a = await launch(`${prefix}-incremental-sns-a`);
    const b = await launch(`${prefix}-incremental-sns-b`);
    await put([...files(meta(a), 3), ...files(meta(b), 4)]);
    const saved = { ...process.env };
    Object.assign(process.env, handlerEnv());
    try {
      const summary = await handler(snsWrapped(eventBridgeEvent(a, 'TERMINATED_WITH_ERRORS'), eventBridgeEvent(b, 'TERMINATED'), eventBridgeEvent(foreign, 'TERMINATED')));
      expect(summary.deleted).toBe(7);
      expect(summary.results.map((r) => [r.clusterId, r.outcome])).toEqual([[a, 'purged'], [b, 'purged'], [foreign, 'ignored']]);
    } finally {
      process.env = saved;
    }
    expect(await keysUnder(meta(a))).toEqual([]);
    expect(await keysUnder(meta(foreign))).toHaveLength(3);
  });

  it('skips what is not a cluster state change', async () => {
    const purge = createPurgeHandler(handlerEnv(), silentLogger);
    expect((await purge({ 'detail-type': 'EC2 Instance State-change Notification', detail: {} })).results).toMatchObject([{ outcome: 'skipped' }]);
    expect((await purge({ Records: [{ Sns: { Message: 'not json' } }] })).results).toMatchObject([{ outcome: 'skipped', reason: 'an SNS message that is not JSON' }]);
  });
});
