import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { DescribeClusterCommand } from '@aws-sdk/client-emr';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HBaseAdmin } from '../../src/local/hbase-process.js';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { dynamoDocumentClient } from '../../src/wiring/aws-clients.js';
import { localStack, seedLocal, uniqueCollection } from '../support/local-stack.js';
import { orchestratorFixture, type OrchestratorFixture } from '../support/orchestrator.js';
import { listKeys, publishedFolders } from '../support/published-output.js';

const exec = promisify(execFile);
const stack = localStack();
const RECORDS = 300;

/** Settings as CLI flags: `statusTable` → `--status-table`. */
const asFlags = (settings: Record<string, string>): string[] =>
  Object.entries(settings).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v]);

describe('trigger --local: schedule → launch → step → status → purge on the local stack', () => {
  let fx: OrchestratorFixture;
  const collection = uniqueCollection('e2e');
  const outputPrefix = `itest-e2e-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    fx = await orchestratorFixture('local');
    await seedLocal({ collection, space: { seed: 'trigger-e2e', collection, from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 1, 1) }, records: RECORDS, keys: 3, regions: 2 });
  });
  afterAll(async () => {
    await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(collection).catch(() => undefined);
    await fx?.cleanup();
  });

  it('publishes the collection as Parquet, completes its status row, terminates the cluster and purges its metadata', async () => {
    const args = ['dist/src/cli/main.js', 'trigger', '--local', '--force', '--json', '--collections', collection, ...asFlags({ ...fx.flags, outputPrefix })];
    const { stdout } = await exec(process.execPath, args, { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LOG_LEVEL: 'warn' } });
    const result = JSON.parse(stdout) as {
      outcome: string; correlationId: string; clusterId: string;
      local: { stepExitCode: number; stepArgs: string[]; metadataKeys: string[]; purge: { outcome: string; deleted: number; folder: string; bucket: string } };
    };
    expect(result.outcome).toBe('launched');
    expect(result.local.stepExitCode).toBe(0);
    expect(result.local.stepArgs.slice(0, 2)).toEqual(['--correlation-id', result.correlationId]);

    const config = fx.config({ outputPrefix });
    const store = new DynamoStatusStore({ tableName: fx.statusTable, client: dynamoDocumentClient(config.step) });
    const row = await store.get(result.correlationId, collection);
    expect(row).toMatchObject({ status: 'EMR_COMPLETED', emrClusterId: result.clusterId });

    const s3 = new S3Client({ region: stack.awsRegion, endpoint: stack.awsEndpointUrl, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const folders = await publishedFolders(s3, config.step.outputBucket, outputPrefix);
    expect(folders).toHaveLength(1);
    expect(folders[0]?.manifest.correlationId).toBe(result.correlationId);
    expect(new Set(folders[0]?.rows.map((r) => r.id)).size).toBe(RECORDS);
    expect(row?.processedDataEnd).toBe(folders[0]?.manifest.maxTimestamp);

    const { Cluster } = await fx.emr.send(new DescribeClusterCommand({ ClusterId: result.clusterId }));
    expect(Cluster?.Status?.State).toBe('TERMINATED');

    expect(result.local.metadataKeys.length).toBeGreaterThan(0);
    expect(result.local.purge).toMatchObject({ outcome: 'purged', deleted: result.local.metadataKeys.length });
    expect(result.local.purge.folder).toBe(`hbase/data/hbase/meta_${result.clusterId}/`);
    expect(await listKeys(s3, result.local.purge.bucket, result.local.purge.folder)).toEqual([]);
    s3.destroy();
  });
});
