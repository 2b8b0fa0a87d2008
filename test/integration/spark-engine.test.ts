import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectionFromName } from '../../src/collections/index.js';
import type { StepConfig } from '../../src/config/step-config.js';
import { HBaseAdmin } from '../../src/local/hbase-process.js';
import { seededVersions, versionInWindow, type RecordSpace } from '../../src/local/seeder/documents.js';
import { silentLogger } from '../../src/shared/logger.js';
import { reprocess } from '../../src/step/reprocess.js';
import { runStep } from '../../src/step/run-step.js';
import type { ScanProgress } from '../../src/step/collection-run.js';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { dynamoDocumentClient, s3Client } from '../../src/wiring/aws-clients.js';
import { buildStepGraph } from '../../src/wiring/step-graph.js';
import { localStack, seedLocal, uniqueCollection } from '../support/local-stack.js';
import { listKeys, publishedFolders, readFolderWithPyarrow } from '../support/published-output.js';
import { sparkConfig } from '../support/spark.js';

const stack = localStack();
const RECORDS = 1200;
const KEYS = 6;
const REGIONS = 3;

/** What a reader sees in a folder, in a form two engines' outputs can be compared by. */
const comparable = (rows: readonly Record<string, unknown>[]) => rows
  .map((r) => ({ ...r, id: r.id as string, timestamp: new Date(r.timestamp as Date | number).getTime() }))
  .sort((a, b) => (a.id < b.id ? -1 : 1));

async function uploadsUnder(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (page.Uploads ?? []).length;
}

describe('the spark engine on the local stack (pyspark, as EMR 7 runs it)', () => {
  const collection = uniqueCollection('spark');
  const space: RecordSpace = { seed: 'spark-itest', collection, from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 3, 1) };
  const prefix = `itest-spark-${randomBytes(4).toString('hex')}`;
  let spark: StepConfig;
  let s3: S3Client;

  beforeAll(async () => {
    spark = sparkConfig({ outputPrefix: prefix });
    s3 = s3Client(spark);
    await seedLocal({ collection, space, records: RECORDS, keys: KEYS, regions: REGIONS });
  });

  afterAll(async () => {
    s3?.destroy();
    await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(collection).catch(() => undefined);
  });

  async function reprocessWith(config: StepConfig, outputPrefix: string, window: { start: number; end: number }) {
    const graph = buildStepGraph(config, silentLogger);
    try {
      const [target] = await graph.collections([collection]);
      return await reprocess(graph.portsFor(target!), { collection: target!, window, outputPrefix, scanConcurrency: 2, maxQuarantined: 10, logger: silentLogger });
    } finally {
      await graph.close();
    }
  }

  it('publishes exactly the rows the single engine publishes for the same window, and a listing reader sees the same', async () => {
    const window = { start: Date.UTC(2025, 0, 15), end: Date.UTC(2025, 2, 15) };
    const single = await reprocessWith({ ...spark, engine: 'single' }, `${prefix}-single`, window);
    const viaSpark = await reprocessWith(spark, `${prefix}-spark`, window);
    expect(viaSpark.outcome).toBe('completed');
    expect(viaSpark.sparkTasks).toBeGreaterThanOrEqual(REGIONS);
    expect(viaSpark.records).toBe(single.records);
    const [a] = await publishedFolders(s3, spark.outputBucket, `${prefix}-single/`);
    const [b] = await publishedFolders(s3, spark.outputBucket, `${prefix}-spark/`);
    expect(b!.rows.length).toBeGreaterThan(100);
    expect(comparable(b!.rows)).toEqual(comparable(a!.rows));
    // Every seeded version in the window, the latest per row, and nothing else.
    let expected = 0;
    for (let i = 0; i < RECORDS; i++) if (versionInWindow(seededVersions(space, i), window.start, window.end)) expected += 1;
    expect(b!.rows).toHaveLength(expected);
    // A reader that lists the folder (as Athena does) sees each row once: only the winners' parts are there.
    const listed = await readFolderWithPyarrow(spark.outputBucket, viaSpark.folder!);
    expect(listed.files.sort()).toEqual(b!.manifest.files.map((f) => f.key).sort());
    expect(listed.ids.sort()).toEqual(b!.rows.map((r) => r.id as string).sort());
    expect(await uploadsUnder(s3, spark.outputBucket, `${prefix}-spark/`)).toBe(0);
    // One key cache per worker process: DKS calls are bounded by distinct keys × tasks, not by records.
    expect(viaSpark.keys.calls).toBeLessThanOrEqual(KEYS * viaSpark.sparkTasks!);
  });

  it('runs the scheduled step through Spark: EMR_COMPLETED, the watermark at the largest timestamp over the winners', async () => {
    const graph = buildStepGraph(spark, silentLogger);
    const correlationId = `itest-spark-${randomBytes(4).toString('hex')}`;
    const now = Date.now();
    const progress: ScanProgress[] = [];
    try {
      const [summary] = await runStep(graph.portsFor, {
        correlationId, triggeredTime: now, endTime: now, collections: [collectionFromName(collection)], concurrency: 1, scanConcurrency: 2,
        visibilityLagMs: spark.visibilityLagMs, maxQuarantined: 10, outputPrefix: prefix, logger: silentLogger,
        onProgress: (_name, p) => progress.push(p),
      });
      expect(summary?.outcome, summary?.note).toBe('completed');
      expect(summary?.records).toBe(RECORDS);
      // The driver's progress lines (finished ranges and their records) reach the step, ending at the whole window.
      expect(progress.at(-1)).toEqual({ records: RECORDS, done: 1 });
      expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b));
      const [folder] = await publishedFolders(s3, spark.outputBucket, `${prefix}/`);
      expect(new Set(folder!.rows.map((r) => r.id)).size).toBe(RECORDS);
      const latest = Math.max(...folder!.rows.map((r) => new Date(r.timestamp as Date).getTime()));
      const status = new DynamoStatusStore({ tableName: spark.statusTable, client: dynamoDocumentClient(spark) });
      expect((await status.get(correlationId, collection))?.status).toBe('EMR_COMPLETED');
      expect(await status.lastCompletedEnd(collection)).toBe(latest);
      expect(folder!.manifest.maxTimestamp).toBe(latest);
    } finally {
      await graph.close();
    }
  });

  it('runs on local-cluster: executors in JVMs of their own, as on YARN', async () => {
    const cluster = sparkConfig({ outputPrefix: `${prefix}-cluster`, sparkMaster: 'local-cluster[2,1,1024]', sparkConf: 'spark.executor.memory=512m', sparkExecutorCores: '2', sparkTasksPerCore: '1' });
    const summary = await reprocessWith(cluster, `${prefix}-cluster`, { start: 0, end: Date.now() });
    expect(summary.outcome).toBe('completed');
    expect(summary.records).toBe(RECORDS);
    const keys = await listKeys(s3, spark.outputBucket, `${prefix}-cluster/`);
    expect(keys.filter((k) => k.endsWith('.parquet'))).toHaveLength(summary.files!.length);
  });
});
