import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { collectionFromName } from '../../src/collections/index.js';
import { loadStepConfig, type StepConfig } from '../../src/config/step-config.js';
import { HBaseAdmin } from '../../src/local/hbase-process.js';
import { localHome } from '../../src/local/paths.js';
import { seededVersions, type RecordSpace } from '../../src/local/seeder/documents.js';
import { silentLogger } from '../../src/shared/logger.js';
import { reprocess } from '../../src/step/reprocess.js';
import { runStep, type CollectionSummary, type StepPortsFactory } from '../../src/step/run-step.js';
import type { StatusStore } from '../../src/step/ports.js';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { dynamoDocumentClient, s3Client } from '../../src/wiring/aws-clients.js';
import { buildStepGraph, type StepGraph } from '../../src/wiring/step-graph.js';
import { localStack, seedLocal, uniqueCollection } from '../support/local-stack.js';
import { listKeys, publishedFolders, type PublishedFolder } from '../support/published-output.js';

/**
 * Issue 10, defects 2 and 3 on the real stack: runs that meet on one collection. Each runner has a step graph
 * of its own (its own HBase, S3, DynamoDB and DKS clients), as two step processes on two clusters would.
 */
const stack = localStack();
const RECORDS = 300;

/** Every object under a published folder is its manifest's: parts, the manifest, the _SUCCESS marker. */
async function expectFoldersHoldOnlyTheirManifests(s3: S3Client, bucket: string, prefix: string, folders: readonly PublishedFolder[]): Promise<void> {
  const listed = (await listKeys(s3, bucket, prefix)).sort();
  const owned = folders.flatMap((f) => [...f.manifest.files.map((file) => file.key), `${f.manifest.folder}/_manifest.json`, `${f.manifest.folder}/_SUCCESS`]).sort();
  expect(listed).toEqual(owned);
}

function seededIds(s: RecordSpace, count: number): string[] {
  return Array.from({ length: count }, (_, i) => seededVersions(s, i).at(-1)!.idJson).sort();
}

describe('runs that meet on one collection', () => {
  const collections: string[] = [];
  let config: StepConfig;
  let s3: S3Client;
  const graphs: StepGraph[] = [];
  const graph = () => {
    const g = buildStepGraph(config, silentLogger);
    graphs.push(g);
    return g;
  };
  const status = () => new DynamoStatusStore({ tableName: config.statusTable, client: dynamoDocumentClient(config) });
  const run = (collection: string, prefix: string, correlationId: string, triggeredTime: number, options: { portsFor?: StepPortsFactory; leaseMs?: number } = {}) => runStep(options.portsFor ?? graph().portsFor, {
    correlationId, triggeredTime, endTime: triggeredTime, collections: [collectionFromName(collection)],
    concurrency: 1, scanConcurrency: 2, visibilityLagMs: config.visibilityLagMs, maxQuarantined: 10, outputPrefix: prefix,
    // A lease long enough that a loaded machine renews it in time; the waiting runner polls often and never gives up here.
    lease: { leaseMs: options.leaseMs ?? 30_000, waitMs: 120_000, pollMs: 250 }, logger: silentLogger,
  });

  /**
   * A runner that stalls as a GC pause or a lost network would: it believes its renewals succeed (none reaches
   * the table, so its lease expires there), and it reaches its commit point only after `meanwhile` has run.
   */
  const stalledRunner = (meanwhile: () => Promise<unknown>): StepPortsFactory => (c) => {
    const ports = graph().portsFor(c);
    const { lease, status } = ports;
    return {
      ...ports,
      lease: { acquire: lease.acquire.bind(lease), renew: () => Promise.resolve(true), release: lease.release.bind(lease), holder: lease.holder.bind(lease) },
      status: Object.assign(Object.create(status) as StatusStore, {
        claimPublication: async (id: string, name: string, owner: string) => {
          await meanwhile();
          return status.claimPublication(id, name, owner);
        },
      }),
    };
  };

  beforeAll(async () => {
    config = loadStepConfig({ local: stack, localHome: localHome(), flags: { engine: 'single' }, env: {} });
    s3 = s3Client(config);
  });

  afterAll(async () => {
    await Promise.all(graphs.map((g) => g.close()));
    const admin = new HBaseAdmin(stack.hbaseAdminUrl);
    for (const collection of collections) await admin.deleteTable(collection).catch(() => undefined);
  });

  /** A collection of its own per test (so an empty watermark), seeded with RECORDS records. */
  const seeded = async (): Promise<{ collection: string; s: RecordSpace }> => {
    const collection = uniqueCollection('concurrent');
    collections.push(collection);
    const s: RecordSpace = { seed: 'concurrent-itest', collection, from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 1, 1) };
    await seedLocal({ collection, space: s, records: RECORDS, keys: 3, regions: 3 });
    return { collection, s };
  };

  it('two runners of one correlation id: one publishes, the other waits and skips; nothing lost, doubled or deleted', async () => {
    const { collection, s } = await seeded();
    const prefix = `itest-${randomBytes(4).toString('hex')}`;
    const now = Date.now();
    const [[a], [b]] = await Promise.all([run(collection, prefix, 'itest-same-id', now), run(collection, prefix, 'itest-same-id', now)]);
    expect([a?.outcome, b?.outcome].sort(), JSON.stringify([a, b])).toEqual(['completed', 'skipped']);
    const folders = await publishedFolders(s3, config.outputBucket, prefix);
    expect(folders).toHaveLength(1);
    expect(folders[0]!.rows.map((r) => r.id as string).sort()).toEqual(seededIds(s, RECORDS));
    await expectFoldersHoldOnlyTheirManifests(s3, config.outputBucket, prefix, folders);
    expect((await status().get('itest-same-id', collection))?.status).toBe('EMR_COMPLETED');
  });

  it('a scheduled and a manual run in the same minute: both complete, in distinct folders, each record once', async () => {
    const { collection, s } = await seeded();
    const prefix = `itest-${randomBytes(4).toString('hex')}`;
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const [[a], [b]] = await Promise.all([
      run(collection, prefix, 'itest-scheduled', minute + 1_000), run(collection, prefix, 'itest-manual', minute + 2_000),
    ]);
    expect([a?.outcome, b?.outcome]).toEqual(['completed', 'completed']);
    expect(a?.folder).not.toBe(b?.folder);
    expect((a?.records ?? 0) + (b?.records ?? 0)).toBe(RECORDS);
    const folders = await publishedFolders(s3, config.outputBucket, prefix);
    expect(folders.map((f) => f.rows.map((r) => r.id as string)).flat().sort()).toEqual(seededIds(s, RECORDS));
    await expectFoldersHoldOnlyTheirManifests(s3, config.outputBucket, prefix, folders);
    for (const id of ['itest-scheduled', 'itest-manual']) expect((await status().get(id, collection))?.status).toBe('EMR_COMPLETED');
  });

  it('a runner that stalls past its lease publishes nothing: the next runner settles it first and reads its window; nothing doubled or left', async () => {
    const { collection, s } = await seeded();
    const prefix = `itest-${randomBytes(4).toString('hex')}`;
    const now = Date.now();
    let next: Promise<CollectionSummary[]> | undefined;
    const [a] = await run(collection, prefix, 'itest-stalled', now, {
      leaseMs: 3_000,
      portsFor: stalledRunner(() => (next ??= run(collection, prefix, 'itest-next', now + 1_000))),
    });
    const [b] = await next!;
    expect(a?.outcome, JSON.stringify(a)).toBe('failed');
    expect(a?.note).toMatch(/publication refused: another runner's settle step abandoned this run/);
    expect(b?.outcome, JSON.stringify(b)).toBe('completed');
    expect(b?.records).toBe(RECORDS);
    const folders = await publishedFolders(s3, config.outputBucket, prefix);
    expect(folders.map((f) => f.manifest.folder)).toEqual([b?.folder]);
    expect(folders[0]!.rows.map((r) => r.id as string).sort()).toEqual(seededIds(s, RECORDS));
    // The stalled runner's parts and pending manifest are gone: every object under the prefix is the manifest's.
    await expectFoldersHoldOnlyTheirManifests(s3, config.outputBucket, prefix, folders);
    expect((await status().get('itest-stalled', collection))?.outputChecked).toBeTypeOf('number');
    expect((await status().get('itest-next', collection))?.status).toBe('EMR_COMPLETED');
  });

  it('two reprocesses of one range in the same minute: both succeed, in distinct folders, each with the whole range', async () => {
    const { collection, s } = await seeded();
    const prefix = `itest-${randomBytes(4).toString('hex')}-reprocess`;
    const now = Date.now();
    const request = {
      collection: collectionFromName(collection), window: { start: 0, end: now }, outputPrefix: prefix,
      scanConcurrency: 2, maxQuarantined: 10, now, logger: silentLogger,
    };
    const [a, b] = await Promise.all([reprocess(graph().portsFor(request.collection), request), reprocess(graph().portsFor(request.collection), request)]);
    expect([a.outcome, b.outcome]).toEqual(['completed', 'completed']);
    expect(a.folder).not.toBe(b.folder);
    const folders = await publishedFolders(s3, config.outputBucket, prefix);
    expect(folders).toHaveLength(2);
    for (const folder of folders) expect(folder.rows.map((r) => r.id as string).sort()).toEqual(seededIds(s, RECORDS));
    await expectFoldersHoldOnlyTheirManifests(s3, config.outputBucket, prefix, folders);
  });
});
