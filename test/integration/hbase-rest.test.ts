import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowKeyOf } from '../../src/contracts/row-key.js';
import { HBaseRestSource } from '../../src/hbase/rest-adapter.js';
import { PermanentError } from '../../src/shared/errors.js';
import type { Cell, KeyRange } from '../../src/step/ports.js';

// Runs against the local HBase already started by the stack (`make stack`); isolates itself with its own table.
const restUrl = process.env.HBASE_REST_URL ?? 'http://127.0.0.1:8080';
const adminUrl = process.env.HBASE_ADMIN_URL ?? 'http://127.0.0.1:8079';
const table = `itest:hbase_rest_${randomBytes(4).toString('hex')}`;

const T0 = 1_596_000_000_000;
const window = { start: T0 + 250_000, end: T0 + 750_000 };
const ROWS = 1_500;

interface Written { rowKey: Buffer; timestamp: number; value: Buffer }

/**
 * 1 500 rows, 1–4 versions each (3 750 cells of ~2.3 KB), timestamps spread over [T0, T0 + 1 000 000);
 * some versions sit exactly on the window's start (inclusive) or end (exclusive).
 */
function makeCells(): Written[] {
  const cells: Written[] = [];
  for (let i = 0; i < ROWS; i++) {
    const rowKey = rowKeyOf(JSON.stringify({ declarationId: `decl-${i}` }));
    const versions = 1 + (i % 4);
    for (let v = 0; v < versions; v++) {
      let timestamp = T0 + ((i * 7_919 + v * 104_729) % 1_000_000);
      if (i % 50 === 0 && v === 0) timestamp = window.end;
      if (i % 50 === 1 && v === 0) timestamp = window.start;
      cells.push({ rowKey, timestamp, value: Buffer.concat([Buffer.from(`{"row":${i},"v":${v}}`), randomBytes(2_300)]) });
    }
  }
  return cells;
}

const digest = (c: { rowKey: Buffer; timestamp: number; value: Buffer }): string =>
  `${c.rowKey.toString('hex')}|${c.timestamp}|${createHash('sha1').update(c.value).digest('hex')}`;

/** The latest version inside [start, end) of every row that has one, in row-key order. */
function expectedIn(cells: Written[], w: { start: number; end: number }): string[] {
  const newest = new Map<string, Written>();
  for (const c of cells) {
    if (c.timestamp < w.start || c.timestamp >= w.end) continue;
    const k = c.rowKey.toString('hex');
    const seen = newest.get(k);
    if (!seen || c.timestamp > seen.timestamp) newest.set(k, c);
  }
  return [...newest.values()].sort((a, b) => a.rowKey.compare(b.rowKey)).map(digest);
}

async function scanAll(source: HBaseRestSource, ranges: KeyRange[], w = window): Promise<Cell[]> {
  const parts = await Promise.all(ranges.map(async (range) => {
    const out: Cell[] = [];
    for await (const batch of source.scan({ table, range, window: w })) out.push(...batch);
    return out;
  }));
  return parts.flat();
}

/** A pass-through proxy to the REST server that drops the connection of chosen scanner GETs after HBase answered. */
async function faultyProxy(dropGet: (n: number) => boolean): Promise<{ url: string; gets: () => number; close: () => Promise<void> }> {
  const target = new URL(restUrl);
  let gets = 0;
  const server: Server = createServer((req, res) => {
    const isScannerGet = req.method === 'GET' && /\/scanner\/[^/]+$/.test(req.url ?? '');
    const drop = isScannerGet && dropGet(++gets);
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      if (drop) {
        up.resume();
        up.on('end', () => res.socket?.destroy());
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    gets: () => gets,
    close: async () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

describe('HBaseRestSource against the local HBase', () => {
  const source = new HBaseRestSource({ url: restUrl, connections: 8 });
  let written: Written[] = [];
  let ranges: KeyRange[] = [];

  beforeAll(async () => {
    const created = await fetch(`${adminUrl}/tables?name=${encodeURIComponent(table)}&regions=4&versions=5`, { method: 'POST' });
    expect(created.status, await created.text()).toBe(201);
    written = makeCells();
    for (let i = 0; i < written.length; i += 500) await source.putCells(table, written.slice(i, i + 500));
    ranges = await source.regions(table);
  });

  afterAll(async () => {
    await source.close();
    await fetch(`${adminUrl}/tables?name=${encodeURIComponent(table)}`, { method: 'DELETE' });
  });

  it('lists the 4 pre-split regions as ranges tiling the key space', () => {
    expect(ranges.map((r) => [r.startRow.toString('hex'), r.endRow.toString('hex')])).toEqual([
      ['', '40000000'], ['40000000', '80000000'], ['80000000', 'c0000000'], ['c0000000', ''],
    ]);
  });

  it('tells whether a table exists', async () => {
    expect(await source.tableExists(table)).toBe(true);
    expect(await source.tableExists(`${table}_missing`)).toBe(false);
  });

  it('returns exactly the latest version inside [start, end) of every row, scanning regions in parallel', async () => {
    const started = performance.now();
    const cells = await scanAll(source, ranges);
    const seconds = (performance.now() - started) / 1000;
    const want = expectedIn(written, window);
    expect(cells.map(digest)).toEqual(want);
    expect(want.length).toBeGreaterThan(ROWS / 2);
    console.log(`[hbase-rest] scanned ${cells.length} rows (${written.length} cells written, ~2.3 KB each) in ${(seconds * 1000).toFixed(0)} ms: ${Math.round(cells.length / seconds).toLocaleString('en')} rows/s over 4 regions`);
  });

  it('treats the window end as exclusive and its start as inclusive', async () => {
    const cells = await scanAll(source, ranges);
    const byRow = new Map(cells.map((c) => [c.rowKey.toString('hex'), c.timestamp]));
    const onEnd = written.filter((c) => c.timestamp === window.end);
    const onStart = written.filter((c) => c.timestamp === window.start);
    expect(onEnd.length).toBeGreaterThan(10);
    expect(onStart.length).toBeGreaterThan(10);
    for (const c of onEnd) expect(byRow.get(c.rowKey.toString('hex'))).not.toBe(window.end);
    for (const c of onStart) {
      const newerInside = written.some((o) => o.rowKey.equals(c.rowKey) && o.timestamp > window.start && o.timestamp < window.end);
      if (!newerInside) expect(byRow.get(c.rowKey.toString('hex'))).toBe(window.start);
    }
    // One millisecond later the versions on the old end are in.
    const widened = await scanAll(source, ranges, { start: window.start, end: window.end + 1 });
    expect(widened.map(digest)).toEqual(expectedIn(written, { start: window.start, end: window.end + 1 }));
  });

  it('gives the same rows with small responses, a row never split or repeated', async () => {
    const small = new HBaseRestSource({ url: restUrl, batchCells: 7 });
    try {
      expect((await scanAll(small, ranges)).map(digest)).toEqual(expectedIn(written, window));
      expect(small.stats().responses).toBeGreaterThan(100);
    } finally {
      await small.close();
    }
  });

  it('resumes after the last row seen when connections drop after HBase answered', async () => {
    const proxy = await faultyProxy((n) => n % 4 === 2);
    const flaky = new HBaseRestSource({ url: proxy.url, batchCells: 50, baseDelayMs: 1, maxDelayMs: 10 });
    try {
      expect((await scanAll(flaky, ranges)).map(digest)).toEqual(expectedIn(written, window));
      expect(flaky.stats().reopened).toBeGreaterThan(3);
      expect(proxy.gets()).toBeGreaterThan(20);
    } finally {
      await flaky.close();
      await proxy.close();
    }
  });

  it('reads back an unknown scanner as 404 (which the client treats as a lost scanner)', async () => {
    const res = await fetch(`${restUrl}/${encodeURIComponent(table)}/scanner/0000000000000dead`, { headers: { accept: 'application/x-protobuf' } });
    await res.arrayBuffer();
    expect(res.status).toBe(404);
  });

  it('fails a scan of a missing table with a PermanentError', async () => {
    const missing = source.scan({ table: `${table}_missing`, range: { startRow: Buffer.alloc(0), endRow: Buffer.alloc(0) }, window });
    await expect((async () => { for await (const _ of missing) { /* none */ } })()).rejects.toThrow(PermanentError);
  });
});
