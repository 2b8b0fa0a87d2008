import { PermanentError } from '../shared/errors.js';
import type { RegionInfo, RestCell, RestRow, ScannerSpec, TableInfo } from './messages.js';

/**
 * Protobuf decoding of the HBase REST messages (see messages.ts), written by hand: the CellSet decoder is the
 * step's hot path, so it walks the response buffer once and hands out `subarray` views into it (zero-copy)
 * instead of copying keys and values.
 */

const EMPTY: Buffer = Buffer.alloc(0);
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;



function malformed(what: string, pos: number): PermanentError {
  return new PermanentError(`malformed protobuf: ${what} at offset ${pos}`, { context: { offset: pos } });
}

/** A cursor over one buffer. Every read is bounds-checked against `end` (the enclosing message's end). */
class Reader {
  pos: number;
  constructor(readonly buf: Buffer, start: number, public end: number) {
    this.pos = start;
  }

  uint32(): number {
    const buf = this.buf;
    let pos = this.pos;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= this.end) throw malformed('truncated varint', pos);
      const b = buf[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
    }
    // A 10-byte varint (a negative int32 sign-extended): the low 32 bits are what proto2 int32 keeps.
    return this.int64() | 0;
  }

  int64(): number {
    const buf = this.buf;
    const start = this.pos;
    let pos = start;
    let result = 0;
    let mul = 1;
    // Up to 7 bytes (49 bits) sums exactly in a double: the fast path for every real timestamp.
    for (let i = 0; i < 7; i++) {
      if (pos >= this.end) throw malformed('truncated varint', pos);
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = pos;
        return result;
      }
      mul *= 128;
    }
    return this.bigInt64(start);
  }

  private bigInt64(start: number): number {
    let pos = start;
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= this.end) throw malformed('truncated varint', pos);
      const b = this.buf[pos++]!;
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return Number(BigInt.asIntN(64, value));
      }
    }
    throw malformed('varint longer than 10 bytes', start);
  }

  /** A length-delimited field's extent; returns its start and moves past it. */
  span(): number {
    const len = this.uint32();
    const start = this.pos;
    if (len > this.end - start) throw malformed(`length ${len} past the end`, start);
    this.pos = start + len;
    return start;
  }

  bytes(): Buffer {
    const start = this.span();
    return this.buf.subarray(start, this.pos);
  }

  string(): string {
    const start = this.span();
    return this.buf.toString('utf8', start, this.pos);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT: this.int64(); return;
      case WIRE_FIXED64: this.advance(8); return;
      case WIRE_BYTES: this.span(); return;
      case WIRE_FIXED32: this.advance(4); return;
      default: throw malformed(`unsupported wire type ${wireType}`, this.pos);
    }
  }

  private advance(n: number): void {
    if (n > this.end - this.pos) throw malformed('truncated fixed field', this.pos);
    this.pos += n;
  }
}

function decodeCell(r: Reader, end: number): RestCell {
  const outer = r.end;
  r.end = end;
  let row: Buffer | undefined;
  let column: Buffer = EMPTY;
  let timestamp = 0;
  let data: Buffer = EMPTY;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: row = r.bytes(); break; // 1, bytes
      case 0x12: column = r.bytes(); break; // 2, bytes
      case 0x18: timestamp = r.int64(); break; // 3, varint
      case 0x22: data = r.bytes(); break; // 4, bytes
      default: r.skip(tag & 7);
    }
  }
  r.end = outer;
  return row === undefined ? { column, timestamp, data } : { row, column, timestamp, data };
}

function decodeRow(r: Reader, end: number): RestRow {
  const outer = r.end;
  r.end = end;
  let key: Buffer = EMPTY;
  const cells: RestCell[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) key = r.bytes();
    else if (tag === 0x12) {
      const start = r.span();
      const cellEnd = r.pos;
      r.pos = start;
      cells.push(decodeCell(r, cellEnd));
    } else r.skip(tag & 7);
  }
  r.end = outer;
  return { key, cells };
}

/** Decodes a CellSet. Keys, columns and values are views into `buf`: keep `buf` unchanged while they live. */
export function decodeCellSet(buf: Buffer): RestRow[] {
  const r = new Reader(buf, 0, buf.length);
  const rows: RestRow[] = [];
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === 0x0a) {
      const start = r.span();
      const rowEnd = r.pos;
      r.pos = start;
      rows.push(decodeRow(r, rowEnd));
    } else r.skip(tag & 7);
  }
  return rows;
}

function decodeRegion(r: Reader, end: number): RegionInfo {
  const outer = r.end;
  r.end = end;
  let name = '';
  let startKey: Buffer = EMPTY;
  let endKey: Buffer = EMPTY;
  let id = 0;
  let location = '';
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: name = r.string(); break;
      case 0x12: startKey = r.bytes(); break;
      case 0x1a: endKey = r.bytes(); break;
      case 0x20: id = r.int64(); break;
      case 0x2a: location = r.string(); break;
      default: r.skip(tag & 7);
    }
  }
  r.end = outer;
  return { name, startKey, endKey, id, location };
}

export function decodeTableInfo(buf: Buffer): TableInfo {
  const r = new Reader(buf, 0, buf.length);
  let name = '';
  const regions: RegionInfo[] = [];
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === 0x0a) name = r.string();
    else if (tag === 0x12) {
      const start = r.span();
      const regionEnd = r.pos;
      r.pos = start;
      regions.push(decodeRegion(r, regionEnd));
    } else r.skip(tag & 7);
  }
  return { name, regions };
}

/** Reads a Scanner message back (for tests and fake servers). */
export function decodeScanner(buf: Buffer): ScannerSpec {
  const r = new Reader(buf, 0, buf.length);
  const spec: { -readonly [K in keyof ScannerSpec]: ScannerSpec[K] } = {};
  const columns: Buffer[] = [];
  const labels: string[] = [];
  while (r.pos < r.end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: spec.startRow = r.bytes(); break;
      case 0x12: spec.endRow = r.bytes(); break;
      case 0x1a: columns.push(r.bytes()); break;
      case 0x20: spec.batch = r.uint32() | 0; break;
      case 0x28: spec.startTime = r.int64(); break;
      case 0x30: spec.endTime = r.int64(); break;
      case 0x38: spec.maxVersions = r.uint32() | 0; break;
      case 0x42: spec.filter = r.string(); break;
      case 0x48: spec.caching = r.uint32() | 0; break;
      case 0x52: labels.push(r.string()); break;
      case 0x58: spec.cacheBlocks = r.int64() !== 0; break;
      default: r.skip(tag & 7);
    }
  }
  if (columns.length > 0) spec.columns = columns;
  if (labels.length > 0) spec.labels = labels;
  return spec;
}
