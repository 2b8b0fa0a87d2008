import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { summaryFields } from '../../src/step/report.js';
import { alternating, maxOverlap, startFaultDks, type FaultDks } from '../support/faults.js';
import { listKeys, publishedFolders } from '../support/published-output.js';
import { seedLocal, uniqueCollection } from '../support/local-stack.js';
import { tableCells } from './support/hbase-cells.js';
import {
  configFor, dropTable, expectedRows, forgetStatus, FROM, openUploads, publishedRows, runOnce, s3Of, space, statusOf, uniquePrefix,
} from './support/stack.js';

/**
 * Issue 6 §1: the Data Key Service down, flapping, slow, or refusing one key, with the step running against a
 * DKS of our own (the shared one serves everyone) through its real mutual-TLS client.
 */
const a = uniqueCollection('reldksa');
const b = uniqueCollection('reldksb');
const many = uniqueCollection('reldksmany');
const RECORDS = 160;
let dks: FaultDks;

beforeAll(async () => {
  dks = await startFaultDks({ random: alternating() });
  await Promise.all([
    seedLocal({ collection: a, space: space(a), records: RECORDS, keys: 4, regions: 2 }),
    seedLocal({ collection: b, space: space(b), records: RECORDS, keys: 4, regions: 2 }),
    seedLocal({ collection: many, space: space(many), records: 120, keys: 40, regions: 2 }),
  ]);
});

afterAll(async () => {
  await dks?.close();
  await Promise.all([dropTable(a), dropTable(b), dropTable(many)]);
});

beforeEach(async () => {
  dks.set({});
  const config = configFor('unused');
  await Promise.all([forgetStatus(config, a), forgetStatus(config, b), forgetStatus(config, many)]);
});

describe('DKS down for the whole run', () => {
  it('fails every affected collection (EMR_FAILED), publishes nothing and leaves the watermark where it was', async () => {
    const prefix = uniquePrefix('dks-down');
    const config = configFor(prefix, { dksUrl: dks.url });
    const status = statusOf(config);
    // An earlier run's watermark, as the seed row of DESIGN.md §3.3 sets it.
    for (const c of [a, b]) await status.transition({ correlationId: '000', collection: c, status: 'EMR_COMPLETED', triggeredTime: FROM, processedDataEnd: FROM - 1 }, [undefined]);
    dks.set({ down: true });

    const summaries = await runOnce(config, { correlationId: 'rel-dks-down', collections: [a, b] });

    for (const s of summaries) {
      expect(s.outcome).toBe('failed');
      expect(s.note).toContain(dks.url);
      expect((await status.get('rel-dks-down', s.collection))?.status).toBe('EMR_FAILED');
      expect(await status.lastCompletedEnd(s.collection)).toBe(FROM - 1);
    }
    expect(await listKeys(s3Of(config), config.outputBucket, prefix)).toEqual([]);
    expect(await openUploads(s3Of(config), config.outputBucket, prefix)).toEqual([]);
  });
});

describe('DKS flapping: every other data-key request answers 503', () => {
  it('completes every collection through retries, publishes every record once, and counts the retries in the summary', async () => {
    const prefix = uniquePrefix('dks-flap');
    const config = configFor(prefix, { dksUrl: dks.url });
    dks.set({ failRate: 0.5, failStatus: 503 });
    const before = dks.requests().length;

    // One collection at a time: 4 keys in flight at once fail at most 3 times each under strict alternation
    // (each retry round halves the stragglers), within the client's 5 attempts.
    const summaries = await runOnce(config, { correlationId: 'rel-dks-flap', collections: [a, b], concurrency: 1 });

    for (const s of summaries) expect(s.outcome, s.note).toBe('completed');
    const answered = dks.requests().slice(before).filter((r) => r.path === '/datakey/actions/decrypt');
    const injected = answered.filter((r) => r.status === 503).length;
    expect(injected).toBeGreaterThan(0);
    expect(answered.length - injected).toBe(8); // one successful unwrap per distinct key: 4 + 4
    // Each collection reports its own retries; together they are exactly the failures DKS injected.
    const retries = summaries.map((s) => summaryFields(s).dksRetries as number);
    expect(retries.reduce((x, y) => x + y, 0)).toBe(injected);
    const rows = await publishedRows(s3Of(config), config.outputBucket, prefix);
    expect(rows).toHaveLength(2 * expectedRows(a, RECORDS).size);
    expect(new Set(rows.map((r) => `${r.folder}|${r.id}`)).size).toBe(rows.length);
  });
});

describe('DKS slow: 2 s per data-key request', () => {
  it('completes without spurious timeouts, and never has more decrypts in flight than the configured bound', async () => {
    const prefix = uniquePrefix('dks-slow');
    const bound = 6;
    const config = configFor(prefix, { dksUrl: dks.url }, { dksConcurrency: String(bound) });
    dks.set({ delayMs: 2000 });
    const before = dks.requests().length;
    const started = Date.now();

    // 40 distinct keys at 6 at a time is 7 rounds of 2 s: the last requests wait 12 s in the queue, more
    // than the 10 s a single request may take, so a timeout that counted the queue would fire here.
    const [summary] = await runOnce(config, { correlationId: 'rel-dks-slow', collections: [many] });

    expect(summary?.outcome, summary?.note).toBe('completed');
    expect(summary?.records).toBe(expectedRows(many, 120).size);
    const decrypts = dks.requests().slice(before).filter((r) => r.path === '/datakey/actions/decrypt');
    expect(decrypts).toHaveLength(40);
    expect(summary?.keys.retries).toBe(0);
    const overlap = maxOverlap(decrypts);
    expect(overlap).toBeLessThanOrEqual(bound);
    expect(overlap).toBeGreaterThanOrEqual(bound - 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(12_000);
  }, 90_000);
});

describe('DKS refuses one data key (400)', () => {
  it('quarantines exactly the records under that key, with their reason, and publishes every other record', async () => {
    const prefix = uniquePrefix('dks-400');
    const config = configFor(prefix, { dksUrl: dks.url });
    const cells = await tableCells(a);
    const refused = cells[0]!.envelope!.encryptedEncryptionKey;
    const underRefused = cells.filter((c) => c.envelope?.encryptedEncryptionKey === refused).length;
    expect(underRefused).toBeGreaterThan(10);
    dks.set({ rejectKeys: [refused] });

    const [summary] = await runOnce(config, { correlationId: 'rel-dks-400', collections: [a] });

    expect(summary?.outcome, summary?.note).toBe('completed');
    expect(summary?.quarantined).toBe(underRefused);
    expect(summary?.records).toBe(cells.length - underRefused);
    const [folder] = await publishedFolders(s3Of(config), config.outputBucket, prefix);
    expect(folder?.manifest.quarantinedByReason).toEqual({ 'unknown-data-key': underRefused });
    const published = new Set(folder!.rows.map((r) => r.row_key as string));
    const truth = expectedRows(a, RECORDS);
    for (const cell of cells) {
      const row = truth.get(cell.rowKey.subarray(4).toString('utf8'))!;
      expect(published.has(row.rowKey)).toBe(cell.envelope?.encryptedEncryptionKey !== refused);
    }
    expect(await statusOf(config).lastCompletedEnd(a)).toBeGreaterThan(FROM);
  });
});
