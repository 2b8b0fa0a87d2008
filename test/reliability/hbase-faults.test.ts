import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FaultProxy, type ProxiedRequest } from '../support/faults.js';
import { listKeys } from '../support/published-output.js';
import { seedLocal, uniqueCollection } from '../support/local-stack.js';
import {
  configFor, dropTable, expectedRows, forgetStatus, FROM, openUploads, publishedRows, runOnce, s3Of, space, stack, statusOf, uniquePrefix,
} from './support/stack.js';

/**
 * Issue 6 §2: HBase REST going away in the middle of a scan. The shared REST server serves everyone, so the
 * step reads through a proxy we control: "restarted" means every connection dropped, connections refused for
 * a while, and every scanner opened before unknown afterwards (404), as a real REST restart leaves them.
 */
const collection = uniqueCollection('relhbase');
// Two regions of ~1200 rows each: two scanner responses per region (1000 cells each), so a fault can land
// after the first response of a region, with rows already consumed, and before the last.
const RECORDS = 2400;
let proxy: FaultProxy;

const isScannerRead = (r: ProxiedRequest): boolean => r.method === 'GET' && /\/scanner\/[^/]+$/.test(r.path.split('?')[0] ?? '');
const isScannerOpen = (r: ProxiedRequest): boolean => r.method === 'PUT' && /\/scanner$/.test(r.path.split('?')[0] ?? '');

beforeAll(async () => {
  await seedLocal({ collection, space: space(collection), records: RECORDS, keys: 3, regions: 2 });
});

afterAll(async () => {
  await dropTable(collection);
});

beforeEach(async () => {
  proxy = new FaultProxy(stack.hbaseRestUrl);
  await proxy.up();
  await forgetStatus(configFor('unused'), collection);
});

afterEach(async () => {
  await proxy.close();
});

/** The run published every seeded record exactly once, with its plaintext. */
async function expectEveryRecordOnce(prefix: string): Promise<void> {
  const config = configFor(prefix);
  const rows = await publishedRows(s3Of(config), config.outputBucket, prefix);
  const truth = expectedRows(collection, RECORDS);
  expect(rows).toHaveLength(truth.size);
  expect(new Set(rows.map((r) => r.id)).size).toBe(truth.size);
  for (const row of rows) expect(row.record).toBe(truth.get(row.id)?.record);
}

describe('HBase REST restarted mid-scan', () => {
  it('resumes each range after the last row seen: every record once, none lost, none repeated', async () => {
    const prefix = uniquePrefix('hbase-restart');
    let restarts = 0;
    proxy.onAnswered((request, status) => {
      if (restarts === 0 && isScannerRead(request) && status === 200) {
        restarts += 1;
        void proxy.restart(1500);
      }
    });

    const [summary] = await runOnce(configFor(prefix, { hbaseRestUrl: proxy.url }), { correlationId: 'rel-hbase-restart', collections: [collection] });

    expect(summary?.outcome, summary?.note).toBe('completed');
    expect(restarts).toBe(1);
    // Scanners were opened again after the restart: more than one per region.
    expect(proxy.seen.filter((s) => isScannerOpen(s.request)).length).toBeGreaterThan(2);
    expect(summary?.records).toBe(expectedRows(collection, RECORDS).size);
    await expectEveryRecordOnce(prefix);
  });
});

describe('HBase REST gone for good mid-scan', () => {
  it('fails the collection cleanly, naming the endpoint: EMR_FAILED, nothing published, watermark unchanged', async () => {
    const prefix = uniquePrefix('hbase-gone');
    const config = configFor(prefix, { hbaseRestUrl: proxy.url });
    await statusOf(config).transition({ correlationId: '000', collection, status: 'EMR_COMPLETED', triggeredTime: FROM, processedDataEnd: FROM - 1 }, [undefined]);
    let cut = false;
    proxy.onAnswered((request, status) => {
      if (!cut && isScannerRead(request) && status === 200) {
        cut = true;
        void proxy.down();
      }
    });

    const [summary] = await runOnce(config, { correlationId: 'rel-hbase-gone', collections: [collection] });

    expect(cut).toBe(true);
    expect(summary?.outcome).toBe('failed');
    expect(summary?.note).toContain(proxy.url);
    expect((await statusOf(config).get('rel-hbase-gone', collection))?.status).toBe('EMR_FAILED');
    expect(await statusOf(config).lastCompletedEnd(collection)).toBe(FROM - 1);
    expect(await listKeys(s3Of(config), config.outputBucket, prefix)).toEqual([]);
    expect(await openUploads(s3Of(config), config.outputBucket, prefix)).toEqual([]);
  }, 60_000);
});

describe('an expired scanner', () => {
  it('answered 410 Gone mid-scan is reopened after the last row seen', async () => {
    const prefix = uniquePrefix('hbase-410');
    let reads = 0;
    const expired: string[] = [];
    proxy.use((request) => {
      if (!isScannerRead(request)) return 'forward';
      reads += 1;
      // The second and fourth reads find their scanner expired, as HBase REST reports a lost region scanner.
      if (reads !== 2 && reads !== 4) return 'forward';
      expired.push(request.path);
      // HBase REST drops the scanner when it answers 410.
      proxy.forget(request.path);
      return { status: 410, body: 'Gone\r\n' };
    });

    const [summary] = await runOnce(configFor(prefix, { hbaseRestUrl: proxy.url }), { correlationId: 'rel-hbase-410', collections: [collection] });

    expect(summary?.outcome, summary?.note).toBe('completed');
    expect(expired).toHaveLength(2);
    // An expired scanner is never read again: the client opened a new one instead.
    for (const path of expired) {
      const gone = proxy.seen.findIndex((s) => s.request.path === path && s.status === 410);
      expect(proxy.seen.slice(gone + 1).filter((s) => s.request.path === path && s.request.method === 'GET')).toEqual([]);
    }
    await expectEveryRecordOnce(prefix);
  });

  it('survives a burst of 503s from an overloaded REST server', async () => {
    const prefix = uniquePrefix('hbase-503');
    let reads = 0;
    proxy.use((request) => {
      if (!isScannerRead(request)) return 'forward';
      reads += 1;
      return reads >= 2 && reads <= 4 ? { status: 503, body: 'Service Unavailable' } : 'forward';
    });

    const [summary] = await runOnce(configFor(prefix, { hbaseRestUrl: proxy.url }), { correlationId: 'rel-hbase-503', collections: [collection] });

    expect(summary?.outcome, summary?.note).toBe('completed');
    expect(proxy.seen.filter((s) => s.status === 503)).toHaveLength(3);
    await expectEveryRecordOnce(prefix);
  });
});
