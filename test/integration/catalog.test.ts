import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetPartitionsCommand, type GlueClient } from '@aws-sdk/client-glue';
import type { S3Client } from '@aws-sdk/client-s3';
import { parquetMetadata } from 'hyparquet';
import { collectionFromName } from '../../src/collections/index.js';
import { loadStepConfig, type StepConfig } from '../../src/config/step-config.js';
import { HBaseAdmin } from '../../src/local/hbase-process.js';
import { localHome } from '../../src/local/paths.js';
import { seededVersions, versionInWindow, type RecordSpace } from '../../src/local/seeder/documents.js';
import { silentLogger } from '../../src/shared/logger.js';
import { GlueCatalog } from '../../src/sink/glue-catalog.js';
import { createS3ObjectStore } from '../../src/sink/s3-adapter.js';
import { tableNameOf } from '../../src/step/catalog.js';
import { ddlStatements } from '../../src/step/ddl.js';
import { reprocess } from '../../src/step/reprocess.js';
import { runStep } from '../../src/step/run-step.js';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { dynamoDocumentClient, glueClient, s3Client } from '../../src/wiring/aws-clients.js';
import { buildStepGraph, type StepGraph } from '../../src/wiring/step-graph.js';
import { withRunsInDuckDb } from '../../bench/duckdb-runs.js';
import { localStack, seedLocal, uniqueCollection } from '../support/local-stack.js';
import { getObject, listKeys, publishedFolders } from '../support/published-output.js';

const stack = localStack();
const RECORDS = 300;

/** Between a superseded record's two versions: that id is in both runs, its older version in the first. */
function splitBetweenVersions(space: RecordSpace): number {
  for (let i = 0; i < RECORDS; i += 1) {
    const versions = seededVersions(space, i);
    if (versions.length === 2) return versions[1]!.timestamp - 86_400_000;
  }
  throw new Error('the seeder wrote no superseded record');
}

describe('published runs in the Glue Data Catalog (moto), queried as Athena would', () => {
  const name = uniqueCollection('glue');
  const collection = collectionFromName(name);
  const prefix = `itest-${randomBytes(4).toString('hex')}`;
  const database = `itest_${randomBytes(4).toString('hex')}`;
  const space: RecordSpace = { seed: 'glue-itest', collection: name, from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 2, 1) };
  let config: StepConfig;
  let graph: StepGraph;
  let s3: S3Client;
  let glue: GlueClient;
  const table = tableNameOf(collection);
  const run = (correlationId: string, endTime: number, portsFor = graph.portsFor) => runStep(portsFor, {
    correlationId, triggeredTime: endTime, endTime, collections: [collection],
    concurrency: 1, scanConcurrency: 2, visibilityLagMs: 0, maxQuarantined: 100, outputPrefix: prefix, logger: silentLogger,
  });
  const partitions = async (t = table) => ((await glue.send(new GetPartitionsCommand({ DatabaseName: database, TableName: t }))).Partitions ?? [])
    .map((p) => ({ run: p.Values![0]!, location: p.StorageDescriptor!.Location! }))
    .sort((a, b) => (a.run < b.run ? -1 : 1));

  beforeAll(async () => {
    config = loadStepConfig({ local: stack, localHome: localHome(), flags: { engine: 'single', outputPrefix: prefix, glueDatabase: database }, env: {} });
    graph = buildStepGraph(config, silentLogger);
    s3 = s3Client(config);
    glue = glueClient(config);
    await seedLocal({ collection: name, space, records: RECORDS, keys: 3, regions: 2 });
  });

  afterAll(async () => {
    await graph?.close();
    await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(name).catch(() => undefined);
  });

  it('a run whose registration fails still completes; the next run registers both; folders, manifests and partitions agree', async () => {
    // Glue unreachable for the first run: the run is published and completed all the same.
    const unreachable = new GlueCatalog({
      glue: glueClient({ awsEndpointUrl: 'http://127.0.0.1:9', awsRegion: config.awsRegion }),
      store: createS3ObjectStore({ s3, bucket: config.outputBucket }), database,
    });
    const [first] = await run('glue-run-1', splitBetweenVersions(space), (c) => ({ ...graph.portsFor(c), catalog: unreachable }));
    expect(first?.outcome, first?.note).toBe('completed');
    const status = new DynamoStatusStore({ tableName: config.statusTable, client: dynamoDocumentClient(config) });
    expect((await status.get('glue-run-1', name))?.status).toBe('EMR_COMPLETED');

    const [second] = await run('glue-run-2', Date.now());
    expect(second?.outcome, second?.note).toBe('completed');

    const folders = await publishedFolders(s3, config.outputBucket, `${prefix}/`);
    expect(folders.map((f) => f.manifest.correlationId).sort()).toEqual(['glue-run-1', 'glue-run-2']);
    const registered = await partitions();
    // The Glue partitions are exactly the folders holding a manifest, each at its folder.
    expect(registered).toEqual(folders.map((f) => ({ run: f.manifest.folder.split('/').pop()!, location: `s3://${config.outputBucket}/${f.manifest.folder}/` })));
    // What a lister of each partition's location sees is exactly what its manifest lists (and `_`-names).
    for (const f of folders) {
      const listed = await listKeys(s3, config.outputBucket, `${f.manifest.folder}/`);
      expect(listed.filter((k) => !k.slice(f.manifest.folder.length + 1).startsWith('_')).sort()).toEqual(f.manifest.files.map((x) => x.key).sort());
    }

    // The default codec is ZSTD (BENCHMARKS.md): every column chunk of the parts DuckDB reads below.
    const part = await getObject(s3, config.outputBucket, folders[0]!.manifest.files[0]!.key);
    const codecs = parquetMetadata(part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength) as ArrayBuffer)
      .row_groups.flatMap((g) => g.columns.map((c) => c.meta_data?.codec));
    expect(new Set(codecs)).toEqual(new Set(['ZSTD']));

    // Idempotent: registering again adds nothing.
    expect(await graph.portsFor(collection).catalog!.registerPublished({ table, prefix: `${prefix}/${collection.db}_${collection.table}` })).toEqual([]);
  });

  it('the printed latest view, in DuckDB over the registered partitions\' Parquet, gives the newest version of every id', async () => {
    const registered = await partitions();
    const superseded = await withRunsInDuckDb(createS3ObjectStore({ s3, bucket: config.outputBucket }), registered.map((p) => ({ run: p.run, prefix: p.location.replace(`s3://${config.outputBucket}/`, '').replace(/\/$/, '') })),
      { database, name: table }, async (sql) => {
        await sql.run(ddlStatements(collection, { bucket: config.outputBucket, prefix, database, kind: 'incremental' }).view);
        const latest = (await sql.runAndReadAll(`SELECT id, record FROM "${database}"."${table}_latest"`)).getRowObjects();
        const expected = new Map<string, string>();
        for (let i = 0; i < RECORDS; i += 1) {
          const v = versionInWindow(seededVersions(space, i), 0, Date.now());
          if (v) expected.set(v.idJson, v.plaintext);
        }
        expect(new Map(latest.map((r) => [String(r.id), String(r.record)]))).toEqual(expected);
        expect(latest).toHaveLength(expected.size);
        // Some ids really are in both runs (older version in the first): the view had something to pick.
        const twice = (await sql.runAndReadAll(`SELECT count(*) AS n FROM (SELECT id FROM "${database}"."${table}" GROUP BY id HAVING count(DISTINCT run) > 1)`)).getRowObjects();
        return Number(twice[0]!.n);
      });
    expect(superseded).toBeGreaterThan(0);
  });

  it('reprocess output is registered in its own table', async () => {
    const summary = await reprocess(graph.portsFor(collection), {
      collection, window: { start: Date.UTC(2025, 0, 1), end: Date.UTC(2025, 0, 15) }, outputPrefix: `${prefix}-reprocess`,
      scanConcurrency: 2, maxQuarantined: 100, logger: silentLogger,
    });
    const registered = await partitions(tableNameOf(collection, 'reprocess'));
    expect(registered.map((p) => p.location)).toEqual([`s3://${config.outputBucket}/${summary.folder}/`]);
  });
});
