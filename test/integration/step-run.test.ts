import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { collectionFromName } from '../../src/collections/index.js';
import { loadStepConfig, type StepConfig } from '../../src/config/step-config.js';
import { printableRowKey } from '../../src/contracts/row-key.js';
import { HBaseRestSource } from '../../src/hbase/rest-adapter.js';
import { HBaseAdmin } from '../../src/local/hbase-process.js';
import { localHome } from '../../src/local/paths.js';
import { seededVersions, versionInWindow, type RecordSpace } from '../../src/local/seeder/documents.js';
import { silentLogger } from '../../src/shared/logger.js';
import { reprocess } from '../../src/step/reprocess.js';
import { runStep } from '../../src/step/run-step.js';
import { buildStepGraph, type StepGraph } from '../../src/wiring/step-graph.js';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { dynamoDocumentClient, s3Client } from '../../src/wiring/aws-clients.js';
import { localStack, seedLocal, uniqueCollection } from '../support/local-stack.js';
import { listKeys, publishedFolders, readFolderWithPyarrow } from '../support/published-output.js';

const stack = localStack();
const MINUTE = 60_000;
const space = (collection: string, from = Date.UTC(2025, 0, 1), until = Date.UTC(2025, 2, 1)): RecordSpace => ({ seed: 'step-itest', collection, from, until });

function expectedRows(s: RecordSpace, indexes: Iterable<number>, start: number, end: number) {
  const rows = new Map<string, { id: string; timestamp: number; record: string; row_key: string }>();
  for (const index of indexes) {
    const v = versionInWindow(seededVersions(s, index), start, end);
    if (v) rows.set(v.idJson, { id: v.idJson, timestamp: v.timestamp, record: v.plaintext, row_key: printableRowKey(v.rowKey) });
  }
  return rows;
}

function asComparable(row: Record<string, unknown>) {
  return { id: row.id as string, timestamp: new Date(row.timestamp as Date | number).getTime(), record: row.record as string, row_key: row.row_key as string };
}

describe('run (scheduled step) on the local stack', () => {
  const collection = uniqueCollection('step');
  const prefix = `itest-${randomBytes(4).toString('hex')}`;
  const s = space(collection);
  const now = Date.now();
  let config: StepConfig;
  let graph: StepGraph;
  let s3: S3Client;
  const status = () => new DynamoStatusStore({ tableName: config.statusTable, client: dynamoDocumentClient(config) });
  const run = (correlationId: string, triggeredTime: number, cfg = config, g = graph) => runStep(g.portsFor, {
    correlationId, triggeredTime, endTime: triggeredTime, collections: [collectionFromName(collection)],
    concurrency: 2, scanConcurrency: 2, visibilityLagMs: cfg.visibilityLagMs, maxQuarantined: 100, outputPrefix: cfg.outputPrefix, logger: silentLogger,
  });

  beforeAll(async () => {
    config = loadStepConfig({ local: stack, localHome: localHome(), flags: { engine: 'single', outputPrefix: prefix }, env: {} });
    graph = buildStepGraph(config, silentLogger);
    s3 = s3Client(config);
    await seedLocal({ collection, space: s, records: 600, keys: 5, regions: 3 });
  });

  afterAll(async () => {
    await graph?.close();
    await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(collection).catch(() => undefined);
  });

  it('publishes exactly the seeded records, decrypted to their plaintexts, and moves the watermark', async () => {
    const [summary] = await run('itest-run-1', now);
    expect(summary?.outcome, summary?.note).toBe('completed');
    const folders = await publishedFolders(s3, config.outputBucket, prefix);
    expect(folders).toHaveLength(1);
    const expected = expectedRows(s, Array.from({ length: 600 }, (_, i) => i), 0, now);
    expect(folders[0]!.rows).toHaveLength(expected.size);
    for (const row of folders[0]!.rows) expect(asComparable(row)).toEqual(expected.get(row.id as string));
    expect(folders[0]!.manifest.correlationId).toBe('itest-run-1');
    const maxTs = Math.max(...[...expected.values()].map((r) => r.timestamp));
    expect(await status().lastCompletedEnd(collection)).toBe(maxTs);
    expect((await status().get('itest-run-1', collection))?.status).toBe('EMR_COMPLETED');
    // One unwrap per distinct data key.
    expect(summary?.keys.calls).toBe(5);
  });

  it('publishes nothing and keeps the watermark when there is no new data', async () => {
    const before = await status().lastCompletedEnd(collection);
    const keysBefore = await listKeys(s3, config.outputBucket, prefix);
    const [summary] = await run('itest-run-2', now + 10 * MINUTE);
    expect(summary?.outcome).toBe('completed');
    expect(summary?.records).toBe(0);
    expect(await listKeys(s3, config.outputBucket, prefix)).toEqual(keysBefore);
    expect(await status().lastCompletedEnd(collection)).toBe(before);
  });

  it('picks up records added after the watermark exactly once', async () => {
    const later = space(collection, Date.UTC(2025, 2, 1), Date.UTC(2025, 2, 2));
    await seedLocal({ collection, space: later, firstIndex: 600, records: 40, keys: 2, regions: 3 });
    const [summary] = await run('itest-run-3', now + 20 * MINUTE);
    expect(summary?.records).toBe(40);
    const folders = await publishedFolders(s3, config.outputBucket, prefix);
    expect(folders).toHaveLength(2);
    const ids = folders.flatMap((f) => f.rows.map((r) => r.id as string));
    expect(new Set(ids).size).toBe(ids.length);
    const expectedNew = expectedRows(later, Array.from({ length: 40 }, (_, i) => 600 + i), 0, now);
    const third = folders.find((f) => f.manifest.correlationId === 'itest-run-3')!;
    for (const row of third.rows) expect(asComparable(row)).toEqual(expectedNew.get(row.id as string));
  });

  it('reprocess returns exactly the rows of its range, under its own prefix, without moving the watermark', async () => {
    const watermark = await status().lastCompletedEnd(collection);
    const start = Date.UTC(2025, 0, 20);
    const end = Date.UTC(2025, 1, 5);
    const reprocessPrefix = `${prefix}-reprocess`;
    const summary = await reprocess(graph.portsFor(collectionFromName(collection)), {
      collection: collectionFromName(collection), window: { start, end }, outputPrefix: reprocessPrefix,
      scanConcurrency: 2, maxQuarantined: 10, logger: silentLogger,
    });
    const folders = await publishedFolders(s3, config.outputBucket, reprocessPrefix);
    expect(folders).toHaveLength(1);
    const expected = expectedRows(s, Array.from({ length: 600 }, (_, i) => i), start, end);
    expect(summary.records).toBe(expected.size);
    expect(folders[0]!.rows.map(asComparable).sort((a, b) => a.id.localeCompare(b.id))).toEqual([...expected.values()].sort((a, b) => a.id.localeCompare(b.id)));
    expect(await status().lastCompletedEnd(collection)).toBe(watermark);
  });
});

describe('run with bad records and failures', () => {
  const collection = uniqueCollection('stepbad');
  const prefix = `itest-${randomBytes(4).toString('hex')}`;
  const s = space(collection);
  const now = Date.now();
  let config: StepConfig;
  let s3: S3Client;
  const status = () => new DynamoStatusStore({ tableName: config.statusTable, client: dynamoDocumentClient(config) });

  beforeAll(async () => {
    config = loadStepConfig({ local: stack, localHome: localHome(), flags: { engine: 'single', outputPrefix: prefix }, env: {} });
    s3 = s3Client(config);
    await seedLocal({ collection, space: s, records: 200, keys: 3, regions: 2 });
  });

  afterAll(async () => {
    await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(collection).catch(() => undefined);
  });

  it('marks the collection EMR_FAILED, publishes nothing and keeps the watermark when DKS is unreachable', async () => {
    const broken = loadStepConfig({ local: { ...stack, dksUrl: 'https://127.0.0.1:9' }, localHome: localHome(), flags: { engine: 'single', outputPrefix: prefix }, env: {} });
    const graph = buildStepGraph(broken, silentLogger);
    try {
      const [summary] = await runStep(graph.portsFor, {
        correlationId: 'itest-dks-down', triggeredTime: now, endTime: now, collections: [collectionFromName(collection)],
        concurrency: 1, scanConcurrency: 2, visibilityLagMs: broken.visibilityLagMs, maxQuarantined: 10, outputPrefix: prefix, logger: silentLogger,
      });
      expect(summary?.outcome).toBe('failed');
      expect(summary?.note).toMatch(/127\.0\.0\.1:9/);
    } finally {
      await graph.close();
    }
    expect((await status().get('itest-dks-down', collection))?.status).toBe('EMR_FAILED');
    expect(await status().lastCompletedEnd(collection)).toBeUndefined();
    expect(await listKeys(s3, config.outputBucket, prefix)).toEqual([]);
  });

  it('quarantines corrupt records with their reasons and publishes the good ones', async () => {
    const hbase = new HBaseRestSource({ url: stack.hbaseRestUrl });
    const good = [...Array.from({ length: 200 }, (_, i) => seededVersions(s, i).at(-1)!)];
    const victim = good[0]!;
    try {
      // Same row keys as real records would use is not needed: corrupt rows get fresh keys of their own.
      const key = (n: number) => Buffer.concat([Buffer.from([0xff, 0xff, 0xff, n]), Buffer.from(`{"id":"bad-${n}"}`)]);
      await hbase.putCells(collection, [
        { rowKey: key(1), timestamp: victim.timestamp, value: Buffer.from('{"not":"an envelope"') },
        { rowKey: key(2), timestamp: victim.timestamp, value: Buffer.from('{"message":{"_id":{"id":"bad-2"}}}') },
        { rowKey: key(3), timestamp: victim.timestamp, value: Buffer.alloc(0) },
      ]);
    } finally {
      await hbase.close();
    }
    const graph = buildStepGraph(config, silentLogger);
    try {
      const [summary] = await runStep(graph.portsFor, {
        correlationId: 'itest-bad', triggeredTime: now, endTime: now, collections: [collectionFromName(collection)],
        concurrency: 1, scanConcurrency: 2, visibilityLagMs: config.visibilityLagMs, maxQuarantined: 10, outputPrefix: prefix, logger: silentLogger,
      });
      expect(summary?.outcome, summary?.note).toBe('completed');
      expect(summary?.quarantined).toBe(3);
      expect(summary?.records).toBe(200);
    } finally {
      await graph.close();
    }
    const [folder] = await publishedFolders(s3, config.outputBucket, prefix);
    expect(folder?.manifest.quarantined).toBe(3);
    expect(Object.values(folder?.manifest.quarantinedByReason ?? {}).reduce((a, b) => a + b, 0)).toBe(3);
    expect(folder?.rows).toHaveLength(200);
  });
});

describe('a run killed between upload and manifest', () => {
  const collection = uniqueCollection('stepcrash');
  const prefix = `itest-${randomBytes(4).toString('hex')}`;
  const s = space(collection);
  const exec = promisify(execFile);

  beforeAll(async () => {
    await seedLocal({ collection, space: s, records: 150, keys: 2, regions: 2 });
  });

  afterAll(async () => {
    await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(collection).catch(() => undefined);
  });

  it('is completed correctly by a rerun of the same correlation id, once the dead runner\'s lease expired', async () => {
    const now = String(Date.now());
    const args = ['dist/src/cli/main.js', 'run', '--correlation-id', 'itest-crash', '--triggered-time', now, '--end-time', now, '--collections', collection, '--output-prefix', prefix];
    const crashed = await exec(process.execPath, args, { env: { ...process.env, INGEST_LEASE: '3s', INGEST_REPLICA_CRASH_AT: 'before-manifest' } }).catch((e: { signal?: string }) => e);
    expect((crashed as { signal?: string }).signal).toBe('SIGKILL');
    const config = loadStepConfig({ local: stack, localHome: localHome(), flags: { engine: 'single', outputPrefix: prefix }, env: {} });
    const s3 = s3Client(config);
    expect(await publishedFolders(s3, config.outputBucket, prefix)).toHaveLength(0);
    const store = new DynamoStatusStore({ tableName: config.statusTable, client: dynamoDocumentClient(config) });
    expect((await store.get('itest-crash', collection))?.status).toBe('EMR_PROCESSING');

    const started = Date.now();
    await exec(process.execPath, args, { env: { ...process.env, INGEST_LEASE: '3s', INGEST_REPLICA_CRASH_AT: '' } });
    // The rerun waited for the dead runner's lease (3 s from its last renewal), not for ever.
    expect(Date.now() - started).toBeLessThan(30_000);
    const folders = await publishedFolders(s3, config.outputBucket, prefix);
    expect(folders).toHaveLength(1);
    const ids = folders[0]!.rows.map((r) => r.id as string);
    expect(new Set(ids).size).toBe(150);
    expect((await store.get('itest-crash', collection))?.status).toBe('EMR_COMPLETED');
    // An outside reader listing the folder (pyarrow) sees exactly the manifest: the killed attempt's parts are gone.
    const { manifest } = folders[0]!;
    const listed = await readFolderWithPyarrow(config.outputBucket, manifest.folder);
    expect(listed.files).toEqual(manifest.files.map((f) => f.key).sort());
    expect(listed.ids.sort()).toEqual(ids.sort());
  });
});
