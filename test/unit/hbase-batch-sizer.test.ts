import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BatchSizer, type ResponseSize } from '../../src/hbase/batch-sizer.js';
import { BodyMemory } from '../../src/hbase/body-memory.js';
import { readBounded } from '../../src/hbase/bounded-body.js';
import { ResponseTooLargeError } from '../../src/hbase/rest-transport.js';
import { formatBytes, parseBytes } from '../../src/config/settings.js';

const MiB = 1024 * 1024;

/** A response of `cells` cells of `cellBytes` each, with 40 bytes of framing per cell. */
const response = (cells: number, cellBytes: number, largest = cellBytes): ResponseSize => ({
  cells, valueBytes: (cells - 1) * cellBytes + largest, largestCellBytes: largest, bytes: (cells - 1) * cellBytes + largest + 40 * cells,
});

/** Drives a sizer over a stream of cell sizes as the scanner would: abandoned responses are asked again. */
function simulate(sizes: readonly number[], budget: number, maxCells: number): { asked: number[]; accepted: { cells: number; bytes: number; largest: number }[]; oversized: number } {
  const sizer = new BatchSizer(budget, maxCells);
  const asked: number[] = [];
  const accepted: { cells: number; bytes: number; largest: number }[] = [];
  let oversized = 0;
  let at = 0;
  for (let guard = 0; at < sizes.length; guard += 1) {
    if (guard > 100_000) throw new Error('the sizer did not let the scan move on');
    const n = sizer.cells();
    asked.push(n);
    const cells = sizes.slice(at, at + n);
    const size: ResponseSize = {
      cells: cells.length, valueBytes: cells.reduce((a, b) => a + b, 0), largestCellBytes: Math.max(...cells),
      bytes: cells.reduce((a, b) => a + b + 40, 0),
    };
    if (size.bytes > sizer.limitFor(n)) {
      oversized += 1;
      sizer.oversized(n, size.bytes);
      // The new scanner starts again at the row held back (the last one of the previous response).
      at = Math.max(0, at - 1);
      continue;
    }
    sizer.observed(size);
    accepted.push({ cells: size.cells, bytes: size.bytes, largest: size.largestCellBytes });
    at += cells.length;
  }
  return { asked, accepted, oversized };
}

describe('BatchSizer', () => {
  it('starts at one cell and grows at most fourfold per response up to the cell limit for small cells', () => {
    const sizer = new BatchSizer(16 * MiB, 1000);
    const asked: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      asked.push(sizer.cells());
      sizer.observed(response(sizer.cells(), 2_300));
    }
    expect(asked).toEqual([1, 4, 16, 64, 256, 1000]);
  });

  it('asks for what fits the budget at the largest cell of the last response', () => {
    const sizer = new BatchSizer(16 * MiB, 1000);
    for (let i = 0; i < 5; i += 1) sizer.observed(response(sizer.cells(), MiB));
    // 1 MiB cells and their framing: 15 fit in 16 MiB.
    expect(sizer.cells()).toBe(15);
    // One 4 MiB cell among small ones: sized for cells that large.
    sizer.observed(response(15, 10_000, 4 * MiB));
    expect(sizer.cells()).toBe(3);
  });

  it('asks for one cell, never none, after a cell larger than the budget, and reads it alone', () => {
    const sizer = new BatchSizer(MiB, 1000);
    sizer.observed(response(1, 40 * MiB));
    expect(sizer.cells()).toBe(1);
    expect(sizer.limitFor(1)).toBe(Number.POSITIVE_INFINITY);
    expect(sizer.limitFor(2)).toBe(MiB);
  });

  it('cuts the count after an oversized response and holds it until the cells that passed the budget were read', () => {
    const sizer = new BatchSizer(16 * MiB, 1000);
    sizer.oversized(256, 256 * MiB);
    expect(sizer.cells()).toBe(16);
    // Small cells right after (the held-back row, the start of the abandoned response) do not grow it back.
    sizer.observed(response(16, 2_300));
    expect(sizer.cells()).toBe(16);
    // 257 cells to read (256 asked, and the held-back row): 17 responses of 16, then it may grow.
    for (let i = 1; i < 17; i += 1) sizer.observed(response(16, 2_300));
    expect(sizer.cells()).toBe(16);
    sizer.observed(response(16, 2_300));
    expect(sizer.cells()).toBe(64);
  });

  it('keeps every accepted response of more than one cell within the budget over any mix of sizes, and always moves on', () => {
    const budget = 16 * MiB;
    // Small records, a run of 2 MB ones, one of 40 MB, small again, 1 MB ones, and single small cells between huge ones.
    const sizes = [
      ...Array<number>(3000).fill(2_300), ...Array<number>(40).fill(2 * MiB), 40 * MiB, ...Array<number>(500).fill(2_300),
      ...Array<number>(200).fill(MiB), ...Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 20 * MiB : 100)), ...Array<number>(2000).fill(1_000),
    ];
    const { accepted, oversized, asked } = simulate(sizes, budget, 1000);
    for (const r of accepted) if (r.cells > 1) expect(r.bytes).toBeLessThanOrEqual(budget);
    expect(accepted.some((r) => r.cells === 1 && r.largest === 40 * MiB)).toBe(true);
    // Each row read once, besides one held-back row re-read per abandoned response.
    expect(accepted.reduce((n, r) => n + r.cells, 0)).toBe(sizes.length + oversized);
    // Few responses abandoned (the 20 MiB cells among small ones cost one each), full-size requests for small records.
    expect(oversized).toBeLessThan(30);
    expect(asked.filter((n) => n === 1000).length).toBeGreaterThan(3);
  });

  it('refuses a budget or a cell limit below one', () => {
    expect(() => new BatchSizer(0, 10)).toThrow(TypeError);
    expect(() => new BatchSizer(10, 0)).toThrow(TypeError);
  });
});

async function* chunksOf(...sizes: number[]): AsyncGenerator<Uint8Array> {
  for (const [i, n] of sizes.entries()) yield Buffer.alloc(n, 97 + i);
}

describe('readBounded', () => {
  it('reads a body within the limit into one buffer, with or without an announced length', async () => {
    const abandoned: string[] = [];
    const announced = await readBounded(chunksOf(3, 4), '7', 10, () => abandoned.push('a'));
    expect(announced.toString()).toBe('aaabbbb');
    const streamed = await readBounded(chunksOf(3, 4), undefined, 10, () => abandoned.push('b'));
    expect(streamed.toString()).toBe('aaabbbb');
    expect(abandoned).toEqual([]);
  });

  it('reads body after body into the same memory, growing it (bytes kept) for a longer one', async () => {
    const memory = new BodyMemory(64);
    const first = await readBounded(chunksOf(3, 4), '7', 100, () => undefined, memory);
    expect(first.toString()).toBe('aaabbbb');
    const second = await readBounded(chunksOf(2, 2), undefined, 100, () => undefined, memory);
    expect(second.toString()).toBe('aabb');
    expect(second.buffer).toBe(first.buffer);
    // Unannounced and longer than the memory: it grows, and what was read before growing is carried over.
    const third = await readBounded(chunksOf(5, 10, 20), undefined, 100, () => undefined, memory);
    expect(third.toString()).toBe(`${'a'.repeat(5)}${'b'.repeat(10)}${'c'.repeat(20)}`);
    const fourth = await readBounded(chunksOf(30), '30', 100, () => undefined, memory);
    expect(fourth.toString()).toBe('a'.repeat(30));
    expect(fourth.buffer).toBe(third.buffer);
  });

  it('does not keep memory grown past its bound for the next body, and still bounds a body by the limit', async () => {
    const memory = new BodyMemory(16);
    const big = await readBounded(chunksOf(40), '40', 100, () => undefined, memory);
    const small = await readBounded(chunksOf(4), '4', 100, () => undefined, memory);
    expect(small.toString()).toBe('aaaa');
    expect(small.buffer).not.toBe(big.buffer);
    expect(big.toString()).toBe('a'.repeat(40));
    let abandoned = 0;
    await expect(readBounded(chunksOf(60, 60), undefined, 100, () => { abandoned += 1; }, memory)).rejects.toMatchObject({ bytesAtLeast: 120 });
    expect(abandoned).toBe(1);
  });

  it('reads a stream into the memory chunk by chunk as well, bounded by the limit, refusing a body cut short', async () => {
    const memory = new BodyMemory(64);
    const stream = (...sizes: number[]): Readable => Readable.from(sizes.map((n, i) => Buffer.alloc(n, 97 + i)));
    const first = await readBounded(stream(30, 30), '60', 100, () => undefined, memory);
    expect(first.toString()).toBe(`${'a'.repeat(30)}${'b'.repeat(30)}`);
    const second = await readBounded(stream(10, 20, 30), undefined, 100, () => undefined, memory);
    expect(second.toString()).toBe(`${'a'.repeat(10)}${'b'.repeat(20)}${'c'.repeat(30)}`);
    expect(second.buffer).toBe(first.buffer);
    let abandoned = 0;
    const big = stream(60, 60);
    await expect(readBounded(big, undefined, 100, () => { abandoned += 1; big.destroy(); }, memory)).rejects.toMatchObject({ name: 'ResponseTooLargeError', bytesAtLeast: 120 });
    expect(abandoned).toBe(1);
    const cut = new Readable({ read() { this.push(Buffer.from('abc')); this.destroy(); } });
    await expect(readBounded(cut, undefined, 100, () => undefined, memory)).rejects.toThrow(/closed after 3 bytes, before its end/);
    const failing = new Readable({ read() { this.destroy(new Error('connection reset')); } });
    await expect(readBounded(failing, undefined, 100, () => undefined, memory)).rejects.toThrow('connection reset');
  });

  it('abandons a body announced larger than the limit before reading any of it', async () => {
    let pulled = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      pulled += 1;
      yield Buffer.alloc(5);
    }
    let abandoned = 0;
    const read = readBounded(counted(), '500000000', 1000, () => { abandoned += 1; });
    await expect(read).rejects.toBeInstanceOf(ResponseTooLargeError);
    await expect(read).rejects.toMatchObject({ limit: 1000, bytesAtLeast: 500_000_000 });
    expect([pulled, abandoned]).toEqual([0, 1]);
  });

  it('abandons a streamed body as soon as it passes the limit', async () => {
    let abandoned = 0;
    const read = readBounded(chunksOf(400, 400, 400, 400, 400), undefined, 1000, () => { abandoned += 1; });
    await expect(read).rejects.toMatchObject({ name: 'ResponseTooLargeError', bytesAtLeast: 1200 });
    expect(abandoned).toBe(1);
  });
});

describe('byte sizes in settings', () => {
  it('reads units and bare numbers of bytes, and writes defaults back with a unit', () => {
    expect(parseBytes('16MiB')).toBe(16 * MiB);
    expect(parseBytes('512 kib')).toBe(512 * 1024);
    expect(parseBytes('1GiB')).toBe(1024 * MiB);
    expect(parseBytes('33554432')).toBe(32 * MiB);
    expect(formatBytes(16 * MiB)).toBe('16MiB');
    expect(formatBytes(1000)).toBe('1000B');
    for (const bad of ['0', '16MB', '-1', '1.5MiB', 'lots', '']) expect(() => parseBytes(bad), bad).toThrow(/at least 1 byte/);
  });
});
