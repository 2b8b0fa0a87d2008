import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowKeyOf } from '../../src/contracts/row-key.js';
import { HBaseRestSource } from '../../src/hbase/rest-adapter.js';
import type { Cell } from '../../src/step/ports.js';

// Issue 16.3 against the real HBase REST server: 40 cells of 2 MB among 400 small ones, scanned with a 4 MiB
// budget. Every response of more than one cell stays within it, and every row is read exactly once.
const restUrl = process.env.HBASE_REST_URL ?? 'http://127.0.0.1:8080';
const adminUrl = process.env.HBASE_ADMIN_URL ?? 'http://127.0.0.1:8079';
const table = `itest:scan_bytes_${randomBytes(4).toString('hex')}`;
const BUDGET = 4 * 1024 * 1024;
const cells: Cell[] = Array.from({ length: 440 }, (_, i) => ({
  rowKey: rowKeyOf(JSON.stringify({ id: `r${i}` })), timestamp: 1_600_000_000_000 + i,
  value: i % 11 === 0 ? randomBytes(2 * 1024 * 1024) : randomBytes(2_000),
}));
const digest = (c: Cell): string => `${c.rowKey.toString('hex')}|${c.timestamp}|${createHash('sha1').update(c.value).digest('hex')}`;

describe('an HBase scan of large cells (issue 16.3)', () => {
  beforeAll(async () => {
    const created = await fetch(`${adminUrl}/tables?name=${encodeURIComponent(table)}&regions=1&versions=1`, { method: 'POST' });
    expect(created.ok).toBe(true);
    const writer = new HBaseRestSource({ url: restUrl });
    try {
      for (let i = 0; i < cells.length; i += 10) await writer.putCells(table, cells.slice(i, i + 10));
    } finally {
      await writer.close();
    }
  }, 120_000);
  afterAll(async () => {
    await fetch(`${adminUrl}/tables?name=${encodeURIComponent(table)}`, { method: 'DELETE' });
  });

  it('keeps each response within the byte budget (one larger cell alone) and reads every row once', async () => {
    const source = new HBaseRestSource({ url: restUrl, batchBytes: BUDGET });
    try {
      const read: Cell[] = [];
      for (const range of await source.regions(table)) {
        for await (const batch of source.scan({ table, range, window: { start: 0, end: Number.MAX_SAFE_INTEGER } })) read.push(...batch);
      }
      expect(read.map(digest)).toEqual([...cells].sort((a, b) => a.rowKey.compare(b.rowKey)).map(digest));
      const stats = source.stats();
      // A response never exceeds the budget by more than one cell (2 MB and its framing).
      expect(stats.largestResponseBytes).toBeLessThanOrEqual(BUDGET + 2 * 1024 * 1024 + 1024);
      expect(stats.bytes).toBeGreaterThan(80 * 1024 * 1024);
    } finally {
      await source.close();
    }
  }, 120_000);
});
