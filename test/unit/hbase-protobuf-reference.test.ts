import { describe, expect, it } from 'vitest';
import {
  decodeCellSet, decodeScanner, decodeTableInfo, encodeCellSet, encodeScanner, encodeTableInfo, type RowInput, type ScannerSpec,
} from '../../src/hbase/protobuf.js';
import { bufbuild, protobufjs } from '../support/hbase-rest-codecs.js';
import { prng } from '../support/prng.js';

/**
 * HBase's own .proto files (proto/hbase-rest, from the hbase-rest 2.6.1 artifact) are the reference: the
 * step's codec (protobufjs over hbase-rest-schema.ts) and @bufbuild/protobuf code generated from those files must agree, byte for byte and row for row.
 */
const SEED = 12_006;

function bytes(next: () => number, max: number): Buffer {
  const out = Buffer.alloc(Math.floor(next() * max));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(next() * 256);
  return out;
}

const TIMESTAMPS = [0, 1, 127, 128, 2 ** 31, 2 ** 32, 1_596_611_220_105, 2 ** 49, 2 ** 53 - 1, -1, -(2 ** 40)];

function randomRows(next: () => number): RowInput[] {
  return Array.from({ length: Math.floor(next() * 6) }, () => ({
    key: bytes(next, 40),
    cells: Array.from({ length: Math.floor(next() * 4) }, () => ({
      ...(next() < 0.2 ? { row: bytes(next, 10) } : {}),
      column: next() < 0.8 ? 'cf:record' : bytes(next, 12),
      ...(next() < 0.9 ? { timestamp: next() < 0.3 ? TIMESTAMPS[Math.floor(next() * TIMESTAMPS.length)]! : Math.floor(next() * 2 ** 42) } : {}),
      data: bytes(next, next() < 0.1 ? 5000 : 300),
    })),
  }));
}

/** An unknown field of a random wire type (varint, fixed64, bytes, fixed32) and a field number HBase does not use. */
function unknownField(next: () => number): Buffer {
  const field = 20 + Math.floor(next() * 100);
  const wire = [0, 1, 2, 5][Math.floor(next() * 4)]!;
  const tag = Buffer.from(encodeScanner({ batch: field * 8 + wire })).subarray(1); // the varint of the tag
  if (wire === 0) return Buffer.concat([tag, Buffer.from([0x96, 0x01])]);
  if (wire === 1) return Buffer.concat([tag, Buffer.alloc(8, 7)]);
  if (wire === 5) return Buffer.concat([tag, Buffer.alloc(4, 9)]);
  return Buffer.concat([tag, Buffer.from([3]), Buffer.from('xyz')]);
}

describe('HBase REST codec against the .proto reference', () => {
  it('decodes random CellSets to the same rows as @bufbuild/protobuf and protobufjs, and encodes them to the same bytes', () => {
    const next = prng(SEED);
    for (let i = 0; i < 300; i++) {
      const rows = randomRows(next);
      const wire = encodeCellSet(rows);
      expect(bufbuild.encodeCellSet(rows).equals(wire), `sequence ${i} (seed ${SEED})`).toBe(true);
      const decoded = decodeCellSet(wire);
      expect(bufbuild.decodeCellSet(wire)).toEqual(decoded);
      expect(protobufjs.decodeCellSet(wire)).toEqual(decoded);
    }
  });

  it('skips unknown fields inside CellSet, Row and Cell as the libraries do', () => {
    const next = prng(SEED + 1);
    for (let i = 0; i < 100; i++) {
      const extra = unknownField(next);
      const data = bytes(next, 50);
      // Cell { column=2 "cf:record", timestamp=3 i, data=4 } with the unknown field first and in between.
      const cell = Buffer.concat([extra, Buffer.from('1209', 'hex'), Buffer.from('cf:record'), extra, Buffer.from([0x18, i, 0x22, data.length]), data]);
      const row = Buffer.concat([Buffer.from([0x0a, 1, 0x6b]), Buffer.from([0x12, cell.length]), cell, extra]);
      const set = Buffer.concat([extra, Buffer.from([0x0a, row.length]), row, extra]);
      const reference = bufbuild.decodeCellSet(set);
      expect(reference[0]?.cells[0]?.timestamp).toBe(i);
      expect(decodeCellSet(set)).toEqual(reference);
      expect(protobufjs.decodeCellSet(set)).toEqual(reference);
    }
  });

  it('encodes the scanner request byte for byte as the libraries do, and reads theirs back', () => {
    const next = prng(SEED + 2);
    for (let i = 0; i < 200; i++) {
      const spec: ScannerSpec = {
        ...(next() < 0.7 ? { startRow: bytes(next, 40) } : {}),
        ...(next() < 0.7 ? { endRow: bytes(next, 40) } : {}),
        ...(next() < 0.8 ? { columns: ['cf:record'] } : {}),
        ...(next() < 0.8 ? { batch: 1 + Math.floor(next() * 5000) } : {}),
        ...(next() < 0.8 ? { startTime: TIMESTAMPS[Math.floor(next() * TIMESTAMPS.length)]! } : {}),
        ...(next() < 0.8 ? { endTime: Math.floor(next() * 2 ** 45) } : {}),
        ...(next() < 0.5 ? { maxVersions: 1 } : {}),
        ...(next() < 0.2 ? { filter: '{"type":"PrefixFilter","value":"YQ=="}' } : {}),
        ...(next() < 0.3 ? { caching: Math.floor(next() * 100) } : {}),
        ...(next() < 0.2 ? { labels: ['secret'] } : {}),
        ...(next() < 0.6 ? { cacheBlocks: next() < 0.5 } : {}),
      };
      const wire = encodeScanner(spec);
      expect(bufbuild.encodeScanner(spec).toString('hex'), `scanner ${i} (seed ${SEED})`).toBe(wire.toString('hex'));
      expect(protobufjs.encodeScanner(spec).toString('hex')).toBe(wire.toString('hex'));
      expect(decodeScanner(wire)).toEqual(bufbuild.decodeScanner(wire));
    }
  });

  it('reads a TableInfo (the regions list) as the library does', () => {
    const info = {
      name: 'core:addresses',
      regions: [
        { name: 'core:addresses,,1', startKey: Buffer.alloc(0), endKey: Buffer.from([0x40, 0, 0, 0]), id: 1_795_641_909_575, location: 'host-a:16020' },
        { name: 'core:addresses,@,1', startKey: Buffer.from([0x40, 0, 0, 0]), endKey: Buffer.alloc(0), id: 1_795_641_909_575, location: 'host-b:16020' },
      ],
    };
    expect(encodeTableInfo(info).equals(bufbuild.encodeTableInfo(info))).toBe(true);
    expect(decodeTableInfo(bufbuild.encodeTableInfo(info))).toEqual(bufbuild.decodeTableInfo(encodeTableInfo(info)));
  });
});
