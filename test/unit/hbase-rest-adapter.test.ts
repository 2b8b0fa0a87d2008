import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HBaseRestSource } from '../../src/hbase/rest-adapter.js';
import {
  decodeCellSet, decodeScanner, encodeCellSet, encodeTableInfo, type RegionInfo, type RestRow, type ScannerSpec,
} from '../../src/hbase/protobuf.js';
import { PermanentError, TransientError } from '../../src/shared/errors.js';
import type { Cell, KeyRange } from '../../src/step/ports.js';

// ─── a fake HBase REST server: real HTTP, protobuf built with our encoder, faults on demand ──────────────

type Fault = number | 'reset' | { delayMs: number };
interface FakeCell { column: string; timestamp: number; data: Buffer }
interface FakeRow { key: Buffer; cells: FakeCell[] }
interface FakeScanner { spec: ScannerSpec; cells: { key: Buffer; cell: FakeCell }[]; pos: number }

class FakeHBaseRest {
  readonly table = 'ns:fake';
  rows: FakeRow[] = [];
  regions: RegionInfo[] = [];
  scanners = new Map<string, FakeScanner>();
  opened: ScannerSpec[] = [];
  created: string[] = [];
  deleted: string[] = [];
  puts: { path: string; contentType: string | undefined; rows: RestRow[] }[] = [];
  gets = 0;
  /** The `c` of every scanner GET (0 when not given). */
  asked: number[] = [];
  /** Every scanner response sent with cells: the `c` it answered, its cells and body bytes. */
  sent: { c: number; cells: number; bytes: number }[] = [];
  lazyMissingTables = false;
  /** Decides the fate of the n-th scanner GET (1-based, counted over the whole test). */
  onGet: (n: number) => Fault | undefined = () => undefined;
  onOpen: (n: number) => number | undefined = () => undefined;
  onPut: (n: number) => number | undefined = () => undefined;
  private server: Server = createServer((req, res) => void this.handle(req, res));
  private nextId = 0;
  url = '';

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  reset(): void {
    Object.assign(this, { scanners: new Map(), opened: [], created: [], deleted: [], puts: [], gets: 0, asked: [], sent: [], lazyMissingTables: false, onGet: () => undefined, onOpen: () => undefined, onPut: () => undefined });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://fake');
    const [, table = '', resource, id] = url.pathname.split('/');
    if (decodeURIComponent(table) !== this.table) {
      // HBase 2.6 creates scanners on missing tables and answers their reads 404; older versions refuse at once.
      if (this.lazyMissingTables && req.method === 'PUT' && resource === 'scanner') {
        res.setHeader('location', `http://hbase-rest.elsewhere:9999/${table}/scanner/missing`);
        return this.send(res, 201, '');
      }
      if (req.method === 'DELETE') this.deleted.push(id ?? '');
      return this.send(res, 404, 'Not found\r\n');
    }
    if (req.method === 'GET' && resource === 'regions') return this.send(res, 200, encodeTableInfo({ name: this.table, regions: this.regions }));
    if (req.method === 'GET' && resource === 'schema') return this.send(res, 200, '{}');
    if (req.method === 'PUT' && resource === 'scanner' && id === undefined) return this.open(req, res, body);
    if (req.method === 'GET' && resource === 'scanner' && id) return this.next(id, res, Number(url.searchParams.get('c') ?? 0));
    if (req.method === 'DELETE' && resource === 'scanner' && id) {
      this.deleted.push(id);
      return this.send(res, this.scanners.delete(id) ? 200 : 404, '');
    }
    if (req.method === 'PUT' && resource === 'fakerow') {
      const status = this.onPut(this.puts.length + 1) ?? 200;
      this.puts.push({ path: req.url ?? '', contentType: req.headers['content-type'], rows: decodeCellSet(body) });
      return this.send(res, status, '');
    }
    this.send(res, 405, 'Method not allowed\r\n');
  }

  private open(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const spec = decodeScanner(body);
    this.opened.push(spec);
    const status = this.onOpen(this.opened.length);
    if (status !== undefined) return this.send(res, status, 'Unavailable\r\n');
    const start = spec.startRow ?? Buffer.alloc(0);
    const end = spec.endRow ?? Buffer.alloc(0);
    const cells = this.rows
      .filter((r) => r.key.compare(start) >= 0 && (end.length === 0 || r.key.compare(end) < 0))
      // HBase lists a row's versions newest first; this fake ignores maxVersions to send several per row.
      .flatMap((r) => r.cells.filter((c) => c.timestamp >= (spec.startTime ?? 0) && c.timestamp < (spec.endTime ?? Infinity))
        .sort((a, b) => b.timestamp - a.timestamp).map((cell) => ({ key: r.key, cell })));
    const id = `scanner${++this.nextId}`;
    this.created.push(id);
    this.scanners.set(id, { spec, cells, pos: 0 });
    // The real server names itself as it sees itself: the client must keep to its configured origin.
    res.setHeader('location', `http://hbase-rest.elsewhere:9999/${encodeURIComponent(this.table)}/scanner/${id}`);
    this.send(res, 201, '');
  }

  /** As HBase 2.6's REST server: `c` (cells), when given, replaces the scanner's batch for this response. */
  private async next(id: string, res: ServerResponse, c: number): Promise<void> {
    const fault = this.onGet(++this.gets);
    if (typeof fault === 'object') await new Promise((r) => setTimeout(r, fault.delayMs));
    const scanner = this.scanners.get(id);
    if (typeof fault === 'number') {
      if (fault === 410) this.scanners.delete(id);
      return this.send(res, fault, 'Gone\r\n');
    }
    if (!scanner) return this.send(res, 404, 'Not found\r\n');
    this.asked.push(c);
    const taken = scanner.cells.slice(scanner.pos, scanner.pos + (c > 0 ? c : scanner.spec.batch ?? 1));
    scanner.pos += taken.length;
    // The server has moved on: a response lost now loses these cells unless the client resumes correctly.
    if (fault === 'reset') return void res.socket?.destroy();
    if (taken.length === 0) return this.send(res, 204, '');
    const rows: { key: Buffer; cells: FakeCell[] }[] = [];
    for (const { key, cell } of taken) {
      const last = rows[rows.length - 1];
      if (last && last.key.equals(key)) last.cells.push(cell);
      else rows.push({ key, cells: [cell] });
    }
    const body = encodeCellSet(rows);
    this.sent.push({ c, cells: taken.length, bytes: body.length });
    this.send(res, 200, body);
  }

  private send(res: ServerResponse, status: number, body: string | Buffer): void {
    res.statusCode = status;
    if (Buffer.isBuffer(body)) res.setHeader('content-type', 'application/x-protobuf');
    res.end(body);
  }
}

// ─── test data ─────────────────────────────────────────────────────────────────────────────────────────

const window = { start: 1_000, end: 2_000 };
const keyOf = (i: number): Buffer => Buffer.concat([Buffer.from([i * 7 % 256, i]), Buffer.from(`{"id":"${i}"}`)]);

/** 40 rows: 0–4 versions each, some before, inside and at/after the window end (exclusive). */
function makeRows(): FakeRow[] {
  const rows: FakeRow[] = [];
  for (let i = 0; i < 40; i++) {
    const stamps = [[], [1_500], [500, 1_200], [999, 1_000, 1_999], [2_000, 1_700, 1_300, 2_500]][i % 5]!;
    rows.push({ key: keyOf(i), cells: stamps.map((timestamp) => ({ column: 'cf:record', timestamp, data: Buffer.from(`v${i}@${timestamp}`) })) });
  }
  return rows.sort((a, b) => a.key.compare(b.key));
}

function expected(rows: FakeRow[], range: KeyRange = { startRow: Buffer.alloc(0), endRow: Buffer.alloc(0) }): string[] {
  return rows
    .filter((r) => r.key.compare(range.startRow) >= 0 && (range.endRow.length === 0 || r.key.compare(range.endRow) < 0))
    .flatMap((r) => {
      const inWindow = r.cells.filter((c) => c.timestamp >= window.start && c.timestamp < window.end);
      if (inWindow.length === 0) return [];
      const newest = inWindow.reduce((a, b) => (b.timestamp > a.timestamp ? b : a));
      return [`${r.key.toString('hex')}|${newest.timestamp}|${newest.data.toString()}`];
    });
}

const show = (cells: Cell[]): string[] => cells.map((c) => `${c.rowKey.toString('hex')}|${c.timestamp}|${c.value.toString()}`);

/** Every cell of a scan. With `reuseMemory` it copies each batch's cells as it takes them, as that contract asks. */
async function collect(source: HBaseRestSource, table: string, range?: KeyRange, signal?: AbortSignal, reuseMemory = false): Promise<{ cells: Cell[]; batches: number }> {
  const cells: Cell[] = [];
  let batches = 0;
  const full = range ?? { startRow: Buffer.alloc(0), endRow: Buffer.alloc(0) };
  for await (const batch of source.scan({ table, range: full, window, ...(signal ? { signal } : {}), ...(reuseMemory ? { reuseMemory } : {}) })) {
    batches += 1;
    cells.push(...(reuseMemory ? batch.map((c) => ({ rowKey: Buffer.from(c.rowKey), timestamp: c.timestamp, value: Buffer.from(c.value) })) : batch));
  }
  return { cells, batches };
}

// ─── specifications ────────────────────────────────────────────────────────────────────────────────────

describe('HBaseRestSource', () => {
  const fake = new FakeHBaseRest();
  let source: HBaseRestSource;
  const sources: HBaseRestSource[] = [];
  const open = (options: { batchCells?: number; batchBytes?: number; maxAttempts?: number } = {}): HBaseRestSource => {
    source = new HBaseRestSource({
      url: fake.url, batchCells: options.batchCells ?? 4, maxAttempts: options.maxAttempts ?? 4, baseDelayMs: 1, maxDelayMs: 5,
      ...(options.batchBytes ? { batchBytes: options.batchBytes } : {}),
    });
    sources.push(source);
    return source;
  };

  beforeAll(async () => {
    await fake.start();
    fake.rows = makeRows();
  });
  afterAll(async () => fake.stop());
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.close()));
    fake.reset();
  });

  it('lists regions as key ranges in key order', async () => {
    const k = (n: number): Buffer => Buffer.from([n, 0, 0, 0]);
    fake.regions = [k(0x80), Buffer.alloc(0), k(0x40)].map((startKey, i) => ({
      name: `r${i}`, startKey, endKey: [Buffer.alloc(0), k(0x40), k(0x80)][i]!, id: i, location: 'rs:16020',
    }));
    const ranges = await open().regions(fake.table);
    expect(ranges.map((r) => [r.startRow.toString('hex'), r.endRow.toString('hex')])).toEqual([['', '40000000'], ['40000000', '80000000'], ['80000000', '']]);
    await expect(source.regions('ns:missing')).rejects.toThrow(PermanentError);
  });

  it('scans the newest cell of each row inside the window, rows split across responses merged', async () => {
    const { cells, batches } = await collect(open({ batchCells: 3 }), fake.table);
    expect(show(cells)).toEqual(expected(fake.rows));
    expect(batches).toBeGreaterThan(5);
    expect(fake.opened).toEqual([{ columns: [Buffer.from('cf:record')], batch: 3, startTime: 1_000, endTime: 2_000, maxVersions: 1, cacheBlocks: false }]);
    expect(fake.deleted).toEqual(fake.created);
    expect(fake.scanners.size).toBe(0);
  });

  it('reads every response into the same memory when the consumer lets go of each batch (reuseMemory), rows unchanged', async () => {
    const memories = new Set<ArrayBufferLike>();
    const cells: Cell[] = [];
    for await (const batch of open({ batchCells: 3 }).scan({ table: fake.table, range: { startRow: Buffer.alloc(0), endRow: Buffer.alloc(0) }, window, reuseMemory: true })) {
      // The held-back row comes from the assembler's own copy; every other cell is a view into the response.
      for (const cell of batch.slice(0, -1)) memories.add(cell.value.buffer);
      cells.push(...batch.map((c) => ({ rowKey: Buffer.from(c.rowKey), timestamp: c.timestamp, value: Buffer.from(c.value) })));
    }
    expect(show(cells)).toEqual(expected(fake.rows));
    expect(memories.size).toBe(1);
  });

  it('sends the range bounds as the scanner start and end rows', async () => {
    const range = { startRow: fake.rows[5]!.key, endRow: fake.rows[30]!.key };
    const { cells } = await collect(open(), fake.table, range);
    expect(show(cells)).toEqual(expected(fake.rows, range));
    expect(fake.opened[0]).toMatchObject({ startRow: range.startRow, endRow: range.endRow });
  });

  // Every fault, at every position of the scan: the result is still exactly every row once.
  const faults: [string, Fault][] = [['410 Gone', 410], ['404 (REST server restarted)', 404], ['500', 500], ['503', 503], ['a connection reset after the server moved on', 'reset']];
  it.each(faults)('resumes after %s at any point without losing or repeating a row', async (_name, fault) => {
    const want = expected(fake.rows);
    let faulted = 0;
    for (let at = 1; at <= 25; at++) {
      // Reused response memory too: what the scan keeps across responses (the held-back row, the last row
      // emitted, where to resume) must not be the response's bytes.
      fake.reset();
      fake.onGet = (n) => (n === at ? fault : undefined);
      const reused = await collect(open({ batchCells: 3 }), fake.table, undefined, undefined, true);
      expect(show(reused.cells), `fault at GET ${at}, memory reused`).toEqual(want);
      fake.reset();
      fake.onGet = (n) => (n === at ? fault : undefined);
      const { cells } = await collect(open({ batchCells: 3 }), fake.table);
      expect(show(cells), `fault at GET ${at}`).toEqual(want);
      if (at > fake.gets) continue;
      faulted += 1;
      expect(fake.opened.length, `fault at GET ${at}`).toBe(2);
      // The replacement scanner started where the first left off, not at the range start.
      if (at > 1) expect(fake.opened[1]?.startRow?.length, `fault at GET ${at}`).toBeGreaterThan(0);
    }
    expect(faulted).toBeGreaterThan(15);
  });

  it('retries scanner creation on 503', async () => {
    fake.onOpen = (n) => (n <= 2 ? 503 : undefined);
    expect(show((await collect(open(), fake.table)).cells)).toEqual(expected(fake.rows));
    expect(fake.opened).toHaveLength(3);
  });

  it.each([['refuses the scanner', false], ['creates the scanner, then answers 404', true]])(
    'fails at once with a PermanentError when the table does not exist and the server %s', async (_how, lazy) => {
      fake.lazyMissingTables = lazy;
      await expect(collect(open(), 'ns:missing')).rejects.toThrow(/HBase table ns:missing not found/);
      await expect.poll(() => fake.deleted).toEqual(lazy ? ['missing'] : []);
    });

  it('gives up with a TransientError naming the URL and table after maxAttempts failures in a row', async () => {
    fake.onGet = () => 500;
    const error = await collect(open({ maxAttempts: 3 }), fake.table).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toContain(fake.url);
    expect((error as Error).message).toContain(fake.table);
    expect(fake.opened).toHaveLength(3);
    // Failed scanners are freed too (in the background).
    await expect.poll(() => fake.scanners.size).toBe(0);
  });

  it('keeps going through many failures as long as each attempt makes progress', async () => {
    fake.onGet = (n) => (n % 3 === 0 ? 'reset' : undefined);
    // 3 cells a response (rows have at most 2 in the window): every 2 good responses finish a row.
    const { cells } = await collect(open({ batchCells: 3, maxAttempts: 2 }), fake.table);
    expect(fake.opened.length).toBeGreaterThan(5);
    expect(show(cells)).toEqual(expected(fake.rows));
  });

  it('deletes its scanner when the consumer stops early', async () => {
    for await (const batch of open().scan({ table: fake.table, range: { startRow: Buffer.alloc(0), endRow: Buffer.alloc(0) }, window })) {
      expect(batch.length).toBeGreaterThan(0);
      break;
    }
    expect(fake.deleted).toHaveLength(1);
    expect(fake.scanners.size).toBe(0);
  });

  it('stops and deletes its scanner when aborted, even in the middle of a slow read', async () => {
    const controller = new AbortController();
    fake.onGet = (n) => (n === 2 ? { delayMs: 5_000 } : undefined);
    const started = Date.now();
    const scan = collect(open(), fake.table, undefined, controller.signal);
    setTimeout(() => controller.abort(new Error('stop now')), 100);
    await expect(scan).rejects.toThrow('stop now');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(fake.deleted).toHaveLength(1);
  });

  it('asks nothing of the server for an empty window', async () => {
    for await (const _ of open().scan({ table: fake.table, range: { startRow: Buffer.alloc(0), endRow: Buffer.alloc(0) }, window: { start: 5, end: 5 } })) {
      throw new Error('no batch expected');
    }
    expect(fake.opened).toHaveLength(0);
  });

  it('writes cells as one multi-row protobuf put, retrying a 503', async () => {
    fake.onPut = (n) => (n === 1 ? 503 : undefined);
    const cells = [0, 1, 2].map((i) => ({ rowKey: keyOf(i), timestamp: 1_596_611_220_105 + i, value: Buffer.from(`value ${i}`) }));
    await open().putCells(fake.table, cells);
    expect(fake.puts).toHaveLength(2);
    expect(fake.puts[1]).toMatchObject({ path: '/ns%3Afake/fakerow', contentType: 'application/x-protobuf' });
    expect(fake.puts[1]!.rows).toEqual(cells.map((c) => ({ key: c.rowKey, cells: [{ column: Buffer.from('cf:record'), timestamp: c.timestamp, data: c.value }] })));
    await expect(source.putCells('ns:missing', cells)).rejects.toThrow(PermanentError);
  });

  it('tries a call on 503 eight times by default, naming what it could not do, and a 400 only once', async () => {
    const cells = [{ rowKey: keyOf(1), timestamp: 1_500, value: Buffer.from('v') }];
    fake.onPut = () => 503;
    source = new HBaseRestSource({ url: fake.url, baseDelayMs: 1, maxDelayMs: 2 });
    sources.push(source);
    const error = await source.putCells(fake.table, cells).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toBe(`could not write cells to HBase table ${fake.table} at ${fake.url} after 8 attempts: HBase REST answered 503 for ${fake.table}: `);
    expect((error as TransientError).context).toMatchObject({ attempts: 8, table: fake.table });
    expect(fake.puts).toHaveLength(8);

    fake.reset();
    fake.onPut = () => 400;
    await expect(source.putCells(fake.table, cells)).rejects.toThrow(PermanentError);
    expect(fake.puts).toHaveLength(1);
  });

  describe('bounded by bytes (issue 16.3)', () => {
    const BUDGET = 16_000;
    /** 80 rows in key order: 100-byte values, then a run of 6 KB ones with a 40 KB one (over the budget) among them, then small again. */
    const sizedRows = (): FakeRow[] => Array.from({ length: 80 }, (_, i) => keyOf(i)).sort((a, b) => a.compare(b)).map((key, at) => {
      const size = at === 45 ? 40_000 : at >= 30 && at < 55 ? 6_000 : 100;
      return { key, cells: [{ column: 'cf:record', timestamp: 1_500, data: Buffer.alloc(size, 97 + (at % 26)) }] };
    });
    const all = { startRow: Buffer.alloc(0), endRow: Buffer.alloc(0) };

    it('asks each response for the cells that fit the budget, and abandons one that passes it, every row read once', async () => {
      const rows = sizedRows();
      fake.rows = rows;
      try {
        const scanned = open({ batchCells: 1000, batchBytes: BUDGET });
        const { cells } = await collect(scanned, fake.table, all);
        expect(show(cells)).toEqual(expected(rows));
        // Responses grew from one cell; the jump to 6 KB cells passed the budget and was abandoned, then asked smaller.
        expect(fake.asked[0]).toBe(1);
        expect(Math.max(...fake.asked)).toBeGreaterThan(16);
        const stats = scanned.stats();
        expect(stats.oversized).toBeGreaterThan(0);
        // Every response of more than one cell asked that passed the budget is one the client abandoned unread.
        expect(fake.sent.filter((r) => r.c > 1 && r.bytes > BUDGET)).toHaveLength(stats.oversized);
        // The 40 KB cell was read, alone.
        expect(fake.sent.some((r) => r.c === 1 && r.cells === 1 && r.bytes > 40_000)).toBe(true);
        expect(stats.largestResponseBytes).toBeGreaterThan(40_000);
        expect(fake.deleted.sort()).toEqual(fake.created.sort());
      } finally {
        fake.rows = makeRows();
      }
    });

    it('does not count an abandoned response as a failure: no back-off, attempts untouched', async () => {
      const rows = sizedRows();
      fake.rows = rows;
      try {
        const scanned = open({ batchCells: 1000, batchBytes: 7_000, maxAttempts: 1 });
        const { cells } = await collect(scanned, fake.table, all);
        expect(show(cells)).toEqual(expected(rows));
        expect(scanned.stats().oversized).toBeGreaterThan(0);
        expect(scanned.stats().reopened).toBe(0);
      } finally {
        fake.rows = makeRows();
      }
    });
  });

  it('tells whether a table exists', async () => {
    expect(await open().tableExists(fake.table)).toBe(true);
    expect(await source.tableExists('ns:missing')).toBe(false);
  });
});
