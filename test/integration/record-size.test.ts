import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { collectionFromName } from '../../src/collections/index.js';
import { loadStepConfig } from '../../src/config/step-config.js';
import { HBaseAdmin } from '../../src/local/hbase-process.js';
import { localHome } from '../../src/local/paths.js';
import { seededVersions } from '../../src/local/seeder/documents.js';
import { silentLogger } from '../../src/shared/logger.js';
import { runStep } from '../../src/step/run-step.js';
import { buildStepGraph } from '../../src/wiring/step-graph.js';
import { s3Client } from '../../src/wiring/aws-clients.js';
import { localStack, seedLocal, uniqueCollection } from '../support/local-stack.js';
import { publishedFolders } from '../support/published-output.js';

/**
 * maxRecordSize (issue 16.3): a record whose envelope is larger is quarantined as too-large, still encrypted,
 * and the rest are published — in this process (`single`) and in the Spark workers, which get it in their task.
 */
const stack = localStack();
const RECORDS = 60;

describe.each(['single', 'spark'] as const)('records over maxRecordSize (%s engine)', (engine) => {
  const collection = uniqueCollection('recsize');
  afterAll(async () => {
    await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(collection).catch(() => undefined);
  });

  it('are quarantined as too-large, still encrypted, and every other record is published', async () => {
    const space = { seed: 'record-size-itest', collection, from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 2, 1) };
    await seedLocal({ collection, space, records: RECORDS, keys: 2, regions: 2 });
    const sizes = Array.from({ length: RECORDS }, (_, i) => seededVersions(space, i).at(-1)!.plaintext.length);
    // A limit that cuts the seeded records in two (an envelope is ~1.4 × its document, plus ~600 bytes).
    const median = [...sizes].sort((a, b) => a - b)[RECORDS / 2]!;
    const limit = Math.round(median * 1.35 + 600);
    const prefix = `itest-${randomBytes(4).toString('hex')}`;
    const config = loadStepConfig({ local: stack, localHome: localHome(), flags: { engine, outputPrefix: prefix, maxRecordSize: String(limit) }, env: {} });
    expect(config.maxRecordBytes).toBe(limit);
    const graph = buildStepGraph(config, silentLogger);
    try {
      const now = Date.now();
      const [summary] = await runStep(graph.portsFor, {
        correlationId: `itest-size-${engine}`, triggeredTime: now, endTime: now, collections: [collectionFromName(collection)],
        concurrency: 1, scanConcurrency: 2, visibilityLagMs: config.visibilityLagMs, maxQuarantined: RECORDS, maxRecordBytes: config.maxRecordBytes,
        outputPrefix: prefix, logger: silentLogger,
      });
      expect(summary?.outcome, summary?.note).toBe('completed');
      const quarantined = summary?.quarantined ?? 0;
      expect(quarantined).toBeGreaterThan(0);
      expect(summary?.records).toBe(RECORDS - quarantined);
      const [folder] = await publishedFolders(s3Client(config), config.outputBucket, prefix);
      expect(folder?.manifest.quarantinedByReason).toEqual({ 'too-large': quarantined });
      expect(folder?.rows).toHaveLength(RECORDS - quarantined);
    } finally {
      await graph.close();
    }
  }, 120_000);
});
