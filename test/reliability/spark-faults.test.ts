import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StepConfig } from '../../src/config/step-config.js';
import { HBaseAdmin } from '../../src/local/hbase-process.js';
import { silentLogger } from '../../src/shared/logger.js';
import { buildStepGraph } from '../../src/wiring/step-graph.js';
import { seedLocal, uniqueCollection } from '../support/local-stack.js';
import { listKeys, publishedFolders, readFolderWithPyarrow } from '../support/published-output.js';
import { markedProcesses, markedWorkers, sparkConfig, waitFor } from '../support/spark.js';
import { runArgs, runCli } from './support/cli.js';
import { envFor, expectedRows, expireLeases, forgetStatus, runIn, s3Of, space, stack, statusOf, uniquePrefix } from './support/stack.js';

/**
 * Faults of the spark engine, each on the real stack through Spark (local[2,4]: two task slots, four
 * attempts per task). Workers are told apart by INGEST_TEST_MARK in their environment, and by the range and
 * attempt the driver puts there; crash points in the worker are scoped to ranges and attempts.
 */
const RECORDS = 400;

async function uploadsUnder(s3: S3Client, bucket: string, prefix: string): Promise<number> {
  const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (page.Uploads ?? []).length;
}

describe('spark engine faults', () => {
  const collection = uniqueCollection('sparkfault');
  let s3: S3Client;
  const expected = () => expectedRows(collection, RECORDS);

  beforeAll(async () => {
    await seedLocal({ collection, space: space(collection), records: RECORDS, keys: 4, regions: 2 });
    s3 = s3Of(sparkConfig());
  });

  // Every test reads the whole collection: no watermark, no lease left by the test before.
  beforeEach(async () => {
    const config = sparkConfig();
    await forgetStatus(config, collection);
    await expireLeases(config, [collection]);
  });

  afterAll(async () => {
    s3?.destroy();
    await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(collection).catch(() => undefined);
  });

  /** One scheduled run in this process through Spark, the workers' environment given (crash settings, mark). */
  async function sparkRun(name: string, workerEnv: Record<string, string>, options: { signal?: AbortSignal; config?: StepConfig; correlationId?: string } = {}) {
    const prefix = options.config?.outputPrefix ?? uniquePrefix(name);
    const config = options.config ?? sparkConfig({ outputPrefix: prefix });
    const mark = `${name}-${randomBytes(4).toString('hex')}`;
    const graph = buildStepGraph(config, silentLogger, { sparkEnv: { ...process.env, INGEST_TEST_MARK: mark, ...workerEnv } });
    const correlationId = options.correlationId ?? `${name}-${randomBytes(4).toString('hex')}`;
    const run = runIn(graph, config, { correlationId, collections: [collection], ...(options.signal ? { signal: options.signal } : {}) })
      .finally(() => graph.close());
    return { run, mark, prefix, config, correlationId };
  }

  /** Exactly the seeded records, once each, in the one published folder; a listing reader sees the same. */
  async function expectPublishedOnce(config: StepConfig, prefix: string) {
    const folders = await publishedFolders(s3, config.outputBucket, `${prefix}/`);
    expect(folders).toHaveLength(1);
    const want = expected();
    const rows = folders[0]!.rows;
    expect(rows).toHaveLength(want.size);
    for (const row of rows) expect(row.record).toBe(want.get(row.id as string)?.record);
    const listed = await readFolderWithPyarrow(config.outputBucket, folders[0]!.manifest.folder);
    expect(listed.ids.sort()).toEqual(rows.map((r) => r.id as string).sort());
    expect(await uploadsUnder(s3, config.outputBucket, `${prefix}/`)).toBe(0);
    return folders[0]!;
  }

  async function expectNothingWritten(config: StepConfig, prefix: string) {
    expect(await listKeys(s3, config.outputBucket, `${prefix}/`)).toEqual([]);
    expect(await uploadsUnder(s3, config.outputBucket, `${prefix}/`)).toBe(0);
  }

  it('a worker that dies after staging a part is retried, and the loser\'s part is not in the folder', async () => {
    const { run, prefix, config } = await sparkRun('partdies', {
      INGEST_REPLICA_CRASH_AT: 'after-part-upload', INGEST_REPLICA_CRASH_RANGES: '0', INGEST_REPLICA_CRASH_ATTEMPTS: '0',
    });
    const [summary] = await run;
    expect(summary?.outcome, summary?.note).toBe('completed');
    const folder = await expectPublishedOnce(config, prefix);
    const keys = await listKeys(s3, config.outputBucket, `${prefix}/`);
    expect(keys.some((k) => k.includes('-r00000-a1-'))).toBe(true);
    expect(keys.some((k) => k.includes('-r00000-a0-'))).toBe(false);
    expect(folder.manifest.files.every((f) => !f.key.includes('-r00000-a0-'))).toBe(true);
  });

  it('a worker that always fails fails the collection: EMR_FAILED with the worker\'s fault, and nothing is written', async () => {
    const { run, prefix, config, correlationId } = await sparkRun('alwaysfails', { INGEST_REPLICA_CRASH_AT: 'after-scan-batch', INGEST_REPLICA_CRASH_RANGES: '1' });
    const [summary] = await run;
    expect(summary?.outcome).toBe('failed');
    const row = await statusOf(config).get(correlationId, collection);
    expect(row?.status).toBe('EMR_FAILED');
    expect(row?.reason).toMatch(/SparkJobError: .*range 1: the Node worker was killed by signal 9/);
    await expectNothingWritten(config, prefix);
    await expireLeases(config, [collection]);
  });

  it('a worker SIGKILLed mid-range is retried: every record once', async () => {
    const { run, mark, prefix, config } = await sparkRun('sigkilled', {
      INGEST_REPLICA_CRASH_AT: 'after-scan-batch', INGEST_REPLICA_CRASH_MODE: 'hang', INGEST_REPLICA_CRASH_RANGES: '0', INGEST_REPLICA_CRASH_ATTEMPTS: '0',
    });
    const stalled = await waitFor('the stalled worker of range 0', () => markedWorkers(mark).find((w) => w.range === 0 && w.attempt === 0));
    process.kill(stalled.pid, 'SIGKILL');
    const [summary] = await run;
    expect(summary?.outcome, summary?.note).toBe('completed');
    await expectPublishedOnce(config, prefix);
  });

  it('a cancelled job leaves no Node process behind, and nothing is written afterwards', async () => {
    const controller = new AbortController();
    const { run, mark, prefix, config } = await sparkRun('cancelled', { INGEST_REPLICA_CRASH_AT: 'after-scan-batch', INGEST_REPLICA_CRASH_MODE: 'hang' }, { signal: controller.signal });
    await waitFor('two stalled workers', () => markedWorkers(mark).length >= 2);
    controller.abort(new Error('cancelled by the test'));
    const [summary] = await run;
    expect(summary?.outcome).toBe('failed');
    await waitFor('every process of the job to end', () => markedProcesses(mark).length === 0, 30_000);
    await expectNothingWritten(config, prefix);
    await new Promise((r) => setTimeout(r, 5000));
    await expectNothingWritten(config, prefix);
    await expireLeases(config, [collection]);
  });

  it('a region split under a running scanner: no row skipped or repeated', async () => {
    // One region, two ranges of ~1,500 rows: more than one REST batch (1,000 cells), so the split lands
    // between two batches of one open scanner.
    const big = uniqueCollection('sparksplit');
    await seedLocal({ collection: big, space: space(big), records: 3000, keys: 4, regions: 1 });
    try {
      const prefix = uniquePrefix('split');
      const config = sparkConfig({ outputPrefix: prefix, sparkExecutorCores: '1', sparkTasksPerCore: '2' });
      const mark = `split-${randomBytes(4).toString('hex')}`;
      const graph = buildStepGraph(config, silentLogger, {
        sparkEnv: { ...process.env, INGEST_TEST_MARK: mark, INGEST_REPLICA_CRASH_AT: 'after-scan-batch', INGEST_REPLICA_CRASH_MODE: 'pause:4000', INGEST_REPLICA_CRASH_RANGES: '0', INGEST_REPLICA_CRASH_ATTEMPTS: '0' },
      });
      const run = runIn(graph, config, { correlationId: `split-${randomBytes(4).toString('hex')}`, collections: [big] }).finally(() => graph.close());
      await waitFor('the paused worker of range 0', () => markedWorkers(mark).find((w) => w.range === 0));
      // Past the first batch of range 0 ([start, 0x80000000)): read after the split, from a daughter.
      await new HBaseAdmin(stack.hbaseAdminUrl).split(big, Buffer.from([0x70, 0, 0, 0]));
      const [summary] = await run;
      expect(summary?.outcome, summary?.note).toBe('completed');
      const [folder] = await publishedFolders(s3, config.outputBucket, `${prefix}/`);
      const want = expectedRows(big, 3000);
      expect(folder!.rows).toHaveLength(want.size);
      expect(new Set(folder!.rows.map((r) => r.id)).size).toBe(want.size);
      for (const row of folder!.rows) expect(row.record).toBe(want.get(row.id as string)?.record);
    } finally {
      await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(big).catch(() => undefined);
    }
  });

  describe('the step process SIGKILLed, then rerun', () => {
    const cliEnv = (prefix: string, extra: Record<string, string> = {}) => {
      const spark = sparkConfig();
      return {
        ...envFor(prefix), INGEST_ENGINE: 'spark', SPARK_HOME: spark.sparkHome, PYSPARK_PYTHON: spark.sparkPython, SPARK_MASTER: 'local[2,4]',
        INGEST_SPARK_EXECUTOR_CORES: '2', INGEST_SPARK_TASKS_PER_CORE: '2', JAVA_HOME: process.env.JAVA_HOME ?? '', ...extra,
      };
    };

    async function killedThenRerun(name: string, crash: Record<string, string>, whenToKill: (child: ChildProcess, mark: string) => Promise<void>) {
      const prefix = uniquePrefix(name);
      const config = sparkConfig({ outputPrefix: prefix });
      const mark = `${name}-${randomBytes(4).toString('hex')}`;
      const correlationId = `${name}-${randomBytes(4).toString('hex')}`;
      const args = runArgs(correlationId, Date.now(), [collection]);
      let killing: Promise<void> | undefined;
      const first = await runCli(args, { env: cliEnv(prefix, { INGEST_TEST_MARK: mark, ...crash }), started: (child) => { killing = whenToKill(child, mark); }, timeoutMs: 120_000 });
      await killing;
      expect(first.signal).toBe('SIGKILL');
      await waitFor('every process of the killed step to end', () => markedProcesses(mark).length === 0, 30_000);
      expect((await publishedFolders(s3, config.outputBucket, `${prefix}/`))).toHaveLength(0);
      await expireLeases(config, [collection]);
      const rerun = await runCli(args, { env: cliEnv(prefix), timeoutMs: 120_000 });
      expect(rerun.code, rerun.stderr.slice(-2000)).toBe(0);
      await expectPublishedOnce(config, prefix);
      expect((await statusOf(config).get(correlationId, collection))?.status).toBe('EMR_COMPLETED');
      // Only the rerun's winners: the killed attempt's objects are gone.
      const keys = (await listKeys(s3, config.outputBucket, `${prefix}/`)).filter((k) => k.endsWith('.parquet'));
      expect(new Set(keys.map((k) => /part-([0-9a-f]{8})-/.exec(k)?.[1])).size).toBe(1);
    }

    it('during fan-out (workers still scanning): its job and workers die with it', async () => {
      await killedThenRerun('killfanout', { INGEST_REPLICA_CRASH_AT: 'after-scan-batch', INGEST_REPLICA_CRASH_MODE: 'hang', INGEST_REPLICA_CRASH_ATTEMPTS: '0' }, async (child, mark) => {
        await waitFor('stalled workers', () => markedWorkers(mark).length >= 2);
        child.kill('SIGKILL');
      });
    });

    it('during commit (the winners\' parts completed, no manifest yet)', async () => {
      await killedThenRerun('killcommit', { INGEST_REPLICA_CRASH_AT: 'after-parts-committed', INGEST_REPLICA_CRASH_RANGES: '-1' }, async () => undefined);
    });
  });
});
