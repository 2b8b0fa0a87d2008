import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Client } from '@aws-sdk/client-s3';
import { collectionFromName } from '../../src/collections/index.js';
import { loadStepConfig, type StepConfig } from '../../src/config/step-config.js';
import { HBaseAdmin } from '../../src/local/hbase-process.js';
import { localHome } from '../../src/local/paths.js';
import { silentLogger } from '../../src/shared/logger.js';
import { runStep } from '../../src/step/run-step.js';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { dynamoDocumentClient, s3Client } from '../../src/wiring/aws-clients.js';
import { buildStepGraph, type StepGraph } from '../../src/wiring/step-graph.js';
import { localStack, seedLocal } from '../support/local-stack.js';
import { publishedFolders } from '../support/published-output.js';

/**
 * Issue 16 item 1: `a_b:c` and `a:b_c` once shared the folder `a_b_c/`. In one run (one correlation id), the
 * second trusted the first's manifest (concurrency 1) or overwrote its records (concurrency 2).
 */
describe('two collections whose names once mapped to one output folder', () => {
  const stack = localStack();
  const tag = randomBytes(3).toString('hex');
  // Each case its own pair (a watermark per collection): `f<tag><run>_x:y` and `f<tag><run>:x_y`.
  const pair = (run: string): string[] => [`f${tag}${run}_x:y`, `f${tag}${run}:x_y`];
  const names = [...pair('c1'), ...pair('c2')];
  const prefix = `itest-folders-${tag}`;
  const space = (collection: string) => ({ seed: `folders-${collection}`, collection, from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 1, 1) });
  let config: StepConfig;
  let graph: StepGraph;
  let s3: S3Client;

  beforeAll(async () => {
    config = loadStepConfig({ local: stack, localHome: localHome(), flags: { engine: 'single', outputPrefix: prefix }, env: {} });
    graph = buildStepGraph(config, silentLogger);
    s3 = s3Client(config);
    for (const [i, name] of names.entries()) await seedLocal({ collection: name, space: space(name), records: i % 2 === 0 ? 40 : 60, keys: 2, regions: 1 });
  });

  afterAll(async () => {
    await graph?.close();
    for (const name of names) await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(name).catch(() => undefined);
  });

  it.each([[1, 'c1'], [2, 'c2']])('at concurrency %i, each publishes its own records into its own folder', async (concurrency, run) => {
    const now = Date.now();
    const mine = pair(run);
    const summaries = await runStep(graph.portsFor, {
      correlationId: `folders-${run}-${tag}`, triggeredTime: now, endTime: now, collections: mine.map((n) => collectionFromName(n)),
      concurrency, scanConcurrency: 1, visibilityLagMs: config.visibilityLagMs, maxQuarantined: 10, outputPrefix: `${prefix}/${run}`, logger: silentLogger,
    });
    expect(summaries.map((s) => [s.collection, s.outcome, s.records])).toEqual([[mine[0], 'completed', 40], [mine[1], 'completed', 60]]);
    const folders = await publishedFolders(s3, config.outputBucket, `${prefix}/${run}/`);
    expect(folders.map((f) => [f.manifest.collection, f.rows.length, f.manifest.folder.split('/')[2]]).sort()).toEqual([
      [mine[1], 60, `f${tag}${run}_x_y`],
      [mine[0], 40, `f${tag}${run}-x_y`],
    ].sort());
    const status = new DynamoStatusStore({ tableName: config.statusTable, client: dynamoDocumentClient(config) });
    for (const name of mine) expect((await status.get(`folders-${run}-${tag}`, name))?.status).toBe('EMR_COMPLETED');
  });
});
