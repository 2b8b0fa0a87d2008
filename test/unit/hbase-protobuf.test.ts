import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RowAssembler } from '../../src/hbase/row-assembler.js';
import { PermanentError } from '../../src/shared/errors.js';
import {
  decodeCellSet, decodeScanner, decodeTableInfo, encodeCellSet, encodeScanner, encodeTableInfo, type RowInput,
} from '../../src/hbase/protobuf.js';

const b = (text: string): Buffer => Buffer.from(text, 'utf8');
const hex = (buf: Buffer): string => buf.toString('hex');

describe('HBase REST protobuf codec', () => {
  describe('Scanner', () => {
    it('encodes each field under its ScannerMessage.proto number', () => {
      // Hand-encoded: tag = field << 3 | wire type; varints little-endian base 128.
      expect(hex(encodeScanner({ startRow: b('a') }))).toBe('0a0161');
      expect(hex(encodeScanner({ endRow: b('z') }))).toBe('12017a');
      expect(hex(encodeScanner({ columns: ['cf:record'] }))).toBe(`1a09${hex(b('cf:record'))}`);
      expect(hex(encodeScanner({ batch: 1000 }))).toBe('20e807');
      expect(hex(encodeScanner({ startTime: 300 }))).toBe('28ac02');
      expect(hex(encodeScanner({ endTime: 1 }))).toBe('3001');
      expect(hex(encodeScanner({ maxVersions: 1 }))).toBe('3801');
      expect(hex(encodeScanner({ filter: 'f' }))).toBe('420166');
      expect(hex(encodeScanner({ caching: 2 }))).toBe('4802');
      expect(hex(encodeScanner({ labels: ['x'] }))).toBe('520178');
      expect(hex(encodeScanner({ cacheBlocks: false }))).toBe('5800');
    });

    it('encodes a negative int64 as ten sign-extended bytes', () => {
      expect(hex(encodeScanner({ startTime: -1 }))).toBe('28ffffffffffffffffff01');
    });

    it('round-trips every field, including large and negative int64 times', () => {
      const spec = {
        startRow: Buffer.from([0, 1, 2, 0xff]), endRow: Buffer.from([0x80, 0, 0, 0]), columns: [b('cf:record'), b('cf:other')],
        batch: 1000, startTime: 1_596_611_220_105, endTime: 2 ** 53 - 1, maxVersions: 1, filter: '{"type":"x"}',
        caching: 100, labels: ['secret', 'public'], cacheBlocks: false,
      };
      expect(decodeScanner(encodeScanner(spec))).toEqual(spec);
      expect(decodeScanner(encodeScanner({ startTime: -1_234_567_890_123, endTime: 0 }))).toEqual({ startTime: -1_234_567_890_123, endTime: 0 });
    });
  });

  describe('CellSet', () => {
    it('decodes a hand-encoded CellSet (Row key=1, values=2; Cell column=2, timestamp=3, data=4)', () => {
      const cell = `1209${hex(b('cf:record'))}18e807220176`; // column, timestamp 1000, data "v"
      const row = `0a0172${'12'}${(cell.length / 2).toString(16)}${cell}`; // key "r"
      const set = Buffer.from(`0a${(row.length / 2).toString(16)}${row}`, 'hex');
      expect(decodeCellSet(set)).toEqual([{ key: b('r'), cells: [{ column: b('cf:record'), timestamp: 1000, data: b('v') }] }]);
      expect(hex(encodeCellSet([{ key: b('r'), cells: [{ column: 'cf:record', timestamp: 1000, data: b('v') }] }]))).toBe(hex(set));
    });

    it('round-trips rows with several cells, empty and large values and edge-case timestamps', () => {
      const timestamps = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 1_596_611_220_105, 2 ** 49 - 1, 2 ** 49, 2 ** 53 - 1, -1, -(2 ** 40)];
      const rows: RowInput[] = timestamps.map((timestamp, i) => ({
        key: Buffer.concat([Buffer.from([i, 0, 0xff]), b(`{"id":"${i}"}`)]),
        cells: [
          { column: b('cf:record'), timestamp, data: Buffer.alloc(i * 997, i) },
          { row: b(`row-${i}`), column: b('cf:other'), timestamp: i, data: Buffer.alloc(0) },
        ],
      }));
      rows.push({ key: b('big'), cells: [{ column: b('cf:record'), timestamp: 5, data: Buffer.alloc(300_000, 7) }] });
      rows.push({ key: b('no-cells'), cells: [] });
      expect(decodeCellSet(encodeCellSet(rows))).toEqual(rows);
    });

    it('leaves the timestamp out when the cell has none (the server then stamps it)', () => {
      const encoded = encodeCellSet([{ key: b('k'), cells: [{ column: 'cf:record', data: b('v') }] }]);
      expect(encoded.includes(Buffer.from([0x18]))).toBe(false);
      expect(decodeCellSet(encoded)[0]?.cells[0]?.timestamp).toBe(0);
    });

    it('hands out views into the response buffer instead of copies', () => {
      const buf = encodeCellSet([{ key: b('key'), cells: [{ column: 'cf:record', timestamp: 1, data: b('value') }] }]);
      const [row] = decodeCellSet(buf);
      const data = row!.cells[0]!.data;
      expect(data.buffer).toBe(buf.buffer);
      buf[buf.length - 1] = 'E'.charCodeAt(0);
      expect(data.toString()).toBe('valuE');
    });

    it('skips fields it does not know, of every wire type', () => {
      // field 101 varint; field 9 fixed64; field 9 bytes "xy"; field 11 fixed32
      const extras = Buffer.concat([Buffer.from('a80601', 'hex'), Buffer.from('490102030405060708', 'hex'), Buffer.from('4a027879', 'hex'), Buffer.from('5d01020304', 'hex')]);
      const cell = Buffer.concat([extras, Buffer.from(`1209${hex(b('cf:record'))}1805220176`, 'hex'), extras]);
      const row = Buffer.concat([extras, Buffer.from('0a0172', 'hex'), Buffer.from([0x12, cell.length]), cell, extras]);
      const set = Buffer.concat([extras, Buffer.from([0x0a, row.length]), row, extras]);
      expect(decodeCellSet(set)).toEqual([{ key: b('r'), cells: [{ column: b('cf:record'), timestamp: 5, data: b('v') }] }]);
    });

    it('rejects truncated and malformed input with a PermanentError naming the message and the reason', () => {
      const buf = encodeCellSet([{ key: b('key'), cells: [{ column: 'cf:record', timestamp: 1_596_611_220_105, data: Buffer.alloc(200, 1) }] }]);
      for (const cut of [1, 2, 5, 20, buf.length - 1]) {
        expect(() => decodeCellSet(buf.subarray(0, cut))).toThrow(PermanentError);
      }
      // A group (never used by HBase REST), a truncated tag, a truncated varint, a length past the end.
      for (const hex of ['0b', '0a', '0aff', '0a05']) {
        expect(() => decodeCellSet(Buffer.from(hex, 'hex'))).toThrow(/^malformed protobuf CellSet from HBase REST: \S/);
        expect(() => decodeCellSet(Buffer.from(hex, 'hex'))).toThrow(PermanentError);
      }
    });

    it('decodes an empty body as no rows', () => {
      expect(decodeCellSet(Buffer.alloc(0))).toEqual([]);
    });
  });

  describe('TableInfo', () => {
    it('round-trips regions with their keys, ids and locations', () => {
      const info = {
        name: 'core:addresses',
        regions: [
          { name: 'core:addresses,,1', startKey: Buffer.alloc(0), endKey: Buffer.from([0x40, 0, 0, 0]), id: 1_795_641_909_575, location: 'host-a:16020' },
          { name: 'core:addresses,@,1', startKey: Buffer.from([0x40, 0, 0, 0]), endKey: Buffer.alloc(0), id: 1_795_641_909_575, location: 'host-b:16020' },
        ],
      };
      expect(decodeTableInfo(encodeTableInfo(info))).toEqual(info);
    });
  });

  it('decodes 2.3 KB-cell CellSets fast (figure printed, not asserted)', () => {
    const value = Buffer.alloc(2300, 0x61);
    const rows: RowInput[] = Array.from({ length: 1000 }, (_, i) => ({
      key: Buffer.concat([Buffer.from([i >> 8, i & 0xff, 0, 0]), b(`{"declarationId":"${String(i).padStart(36, '0')}"}`)]),
      cells: [{ column: 'cf:record', timestamp: 1_596_611_220_105 + i, data: value }],
    }));
    const body = encodeCellSet(rows);
    const rate = (work: () => number): number => {
      for (let i = 0; i < 300; i++) work(); // warm-up: let the JIT settle
      let done = 0;
      const started = process.hrtime.bigint();
      while (process.hrtime.bigint() - started < 400_000_000n) for (let i = 0; i < 20; i++) done += work();
      return Math.round(done / (Number(process.hrtime.bigint() - started) / 1e9));
    };
    const decodeOnly = rate(() => decodeCellSet(body).length);
    // What the scan does per response: decode, then keep the newest cell of each row.
    const assembler = new RowAssembler(Buffer.alloc(0));
    const withRows = rate(() => assembler.accept(decodeCellSet(body)).length + assembler.finish().length);
    const fmt = (n: number): string => n.toLocaleString('en');
    console.log(`[hbase-protobuf] decodeCellSet: ${fmt(decodeOnly)} rows/s; with row assembly: ${fmt(withRows)} rows/s (${(body.length / 1e6).toFixed(2)} MB bodies of 1000 rows)`);
    expect(decodeOnly).toBeGreaterThan(0);
    expect(withRows).toBeGreaterThan(0);
  });
});

describe('the codec schema', () => {
  it('is the one compiled from the vendored .proto files (run `make proto` after changing them)', async () => {
    const { schemaModule } = await import('../../scripts/hbase-rest-schema.js');
    expect(readFileSync('src/hbase/hbase-rest-schema.ts', 'utf8')).toBe(schemaModule());
  });
});
