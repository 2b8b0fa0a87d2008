import { describe, expect, it } from 'vitest';
import { TransientError } from '../../src/shared/errors.js';
import type { RegionInfo, RestRow } from '../../src/hbase/protobuf.js';
import { regionRanges } from '../../src/hbase/region-ranges.js';
import { RowAssembler } from '../../src/hbase/row-assembler.js';

const key = (text: string): Buffer => Buffer.from(text);
const row = (k: string, ...cells: [number, string][]): RestRow => ({
  key: key(k), cells: cells.map(([timestamp, data]) => ({ column: key('cf:record'), timestamp, data: key(data) })),
});
const plain = (cells: { rowKey: Buffer; timestamp: number; value: Buffer }[]): [string, number, string][] =>
  cells.map((c) => [c.rowKey.toString(), c.timestamp, c.value.toString()]);

describe('RowAssembler', () => {
  it('holds back the last row of a response until the next response starts another row', () => {
    const a = new RowAssembler(Buffer.alloc(0));
    expect(plain(a.accept([row('a', [1, 'a1']), row('b', [2, 'b2'])]))).toEqual([['a', 1, 'a1']]);
    expect(plain(a.accept([row('c', [3, 'c3'])]))).toEqual([['b', 2, 'b2']]);
    expect(plain(a.finish())).toEqual([['c', 3, 'c3']]);
    expect(a.finish()).toEqual([]);
    expect(a.rows).toBe(3);
  });

  it('merges a row split across two responses and keeps its newest cell', () => {
    const a = new RowAssembler(Buffer.alloc(0));
    expect(plain(a.accept([row('a', [1, 'a1']), row('b', [5, 'b5'], [2, 'b2'])]))).toEqual([['a', 1, 'a1']]);
    expect(plain(a.accept([row('b', [9, 'b9'], [3, 'b3']), row('c', [1, 'c1'])]))).toEqual([['b', 9, 'b9']]);
    expect(plain(a.accept([row('c', [0, 'c0'])]))).toEqual([]);
    expect(plain(a.finish())).toEqual([['c', 1, 'c1']]);
  });

  it('keeps copies of what it holds across responses, not views of a response (whose memory may be reused)', () => {
    const a = new RowAssembler(Buffer.alloc(0));
    const response = [row('a', [1, 'a1']), row('b', [2, 'b2'])];
    a.accept(response);
    for (const r of response) {
      r.key.fill(0x7a);
      for (const c of r.cells) c.data.fill(0x7a);
    }
    expect(a.resumeRow()).toEqual(key('b'));
    expect(plain(a.accept([row('c', [3, 'c3'])]))).toEqual([['b', 2, 'b2']]);
    expect(a.resumeRow()).toEqual(key('c'));
    a.finish();
    expect(a.resumeRow()).toEqual(Buffer.concat([key('c'), Buffer.from([0])]));
  });

  it('resumes at the range start, then at the held-back row, then just after the last emitted row', () => {
    const a = new RowAssembler(key('start'));
    expect(a.resumeRow()).toEqual(key('start'));
    a.accept([row('a', [1, 'a1']), row('b', [1, 'b1'])]);
    expect(a.resumeRow()).toEqual(key('b'));
    a.finish();
    expect(a.resumeRow()).toEqual(Buffer.concat([key('b'), Buffer.from([0])]));
  });

  it('never emits a row twice when a resumed scanner repeats rows already emitted', () => {
    const a = new RowAssembler(Buffer.alloc(0));
    a.accept([row('a', [1, 'a1']), row('b', [1, 'b1']), row('c', [1, 'c1'])]);
    a.resumeRow();
    // A server that ignored the new start row would send everything again.
    const again = a.accept([row('a', [1, 'a1']), row('b', [1, 'b1']), row('c', [4, 'c4']), row('d', [1, 'd1'])]);
    expect(plain([...again, ...a.finish()])).toEqual([['c', 4, 'c4'], ['d', 1, 'd1']]);
  });

  it('ignores rows without cells', () => {
    const a = new RowAssembler(Buffer.alloc(0));
    expect(plain([...a.accept([row('a'), row('b', [1, 'b1']), row('c')]), ...a.finish()])).toEqual([['b', 1, 'b1']]);
  });
});

describe('regionRanges', () => {
  const region = (start: number[], end: number[], name = 'r'): RegionInfo => ({
    name, startKey: Buffer.from(start), endKey: Buffer.from(end), id: 1, location: 'h:1',
  });

  it('orders regions by start key into ranges tiling the table', () => {
    const ranges = regionRanges([region([0x80], []), region([], [0x40]), region([0x40], [0x80])], 'ns:t');
    expect(ranges.map((r) => [r.startRow.toString('hex'), r.endRow.toString('hex')])).toEqual([['', '40'], ['40', '80'], ['80', '']]);
  });

  it('lists a region once when replicas repeat it', () => {
    expect(regionRanges([region([], [0x40]), region([0x40], []), region([], [0x40], 'replica')], 'ns:t')).toHaveLength(2);
  });

  it('accepts a single region covering everything', () => {
    expect(regionRanges([region([], [])], 'ns:t')).toEqual([{ startRow: Buffer.alloc(0), endRow: Buffer.alloc(0) }]);
  });

  it('refuses gaps, overlaps and missing ends as transient (a split in progress)', () => {
    expect(() => regionRanges([], 'ns:t')).toThrow(TransientError);
    expect(() => regionRanges([region([], [0x40]), region([0x50], [])], 'ns:t')).toThrow(/region 1 does not start where region 0 ends/);
    expect(() => regionRanges([region([], [0x80]), region([], [0x40]), region([0x40], [])], 'ns:t')).toThrow(TransientError);
    expect(() => regionRanges([region([0x10], [])], 'ns:t')).toThrow(/first region/);
    expect(() => regionRanges([region([], [0x10])], 'ns:t')).toThrow(/last region/);
  });
});
