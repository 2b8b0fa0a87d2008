import type { CellInput, RowInput, ScannerSpec, TableInfo } from './messages.js';

/**
 * Protobuf encoding of the HBase REST messages (see messages.ts). A CellSet is sized exactly first and then
 * written into one buffer (the seeder sends thousands of ~2 KB cells per request); the small messages use
 * the same writer, grown on demand.
 */

/** Bytes of the varint of `n`; negative int64 values take 10 (two's complement, sign-extended). */
function varintSize(n: number): number {
  if (n < 0) return 10;
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  let rest = Math.floor(n / 0x10000000);
  while (rest > 0) {
    size += 1;
    rest = Math.floor(rest / 128);
  }
  return size;
}

const bytesFieldSize = (length: number): number => 1 + varintSize(length) + length;

class Writer {
  private buf: Buffer;
  private pos = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(16, capacity));
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** Any integer as a proto varint: int32/int64 semantics (negative → 10 bytes). */
  varint(value: number): void {
    if (!Number.isInteger(value)) throw new RangeError(`protobuf varint needs an integer, got ${value}`);
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    if (value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
      let n = value;
      while (n >= 0x80) {
        buf[pos++] = (n % 0x80) | 0x80;
        n = Math.floor(n / 0x80);
      }
      buf[pos++] = n;
    } else {
      let n = BigInt.asUintN(64, BigInt(value));
      while (n >= 0x80n) {
        buf[pos++] = Number(n & 0x7fn) | 0x80;
        n >>= 7n;
      }
      buf[pos++] = Number(n);
    }
    this.pos = pos;
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
  }

  bytesField(tag: number, value: Uint8Array): void {
    this.varint(tag);
    this.bytes(value);
  }

  varintField(tag: number, value: number): void {
    this.varint(tag);
    this.varint(value);
  }

  finish(): Buffer {
    return this.pos === this.buf.length ? this.buf : this.buf.subarray(0, this.pos);
  }
}

const utf8 = (value: Uint8Array | string): Uint8Array => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);

export function encodeScanner(spec: ScannerSpec): Buffer {
  const w = new Writer(64);
  if (spec.startRow !== undefined) w.bytesField(0x0a, spec.startRow);
  if (spec.endRow !== undefined) w.bytesField(0x12, spec.endRow);
  for (const column of spec.columns ?? []) w.bytesField(0x1a, utf8(column));
  if (spec.batch !== undefined) w.varintField(0x20, spec.batch);
  if (spec.startTime !== undefined) w.varintField(0x28, spec.startTime);
  if (spec.endTime !== undefined) w.varintField(0x30, spec.endTime);
  if (spec.maxVersions !== undefined) w.varintField(0x38, spec.maxVersions);
  if (spec.filter !== undefined) w.bytesField(0x42, utf8(spec.filter));
  if (spec.caching !== undefined) w.varintField(0x48, spec.caching);
  for (const label of spec.labels ?? []) w.bytesField(0x52, utf8(label));
  if (spec.cacheBlocks !== undefined) w.varintField(0x58, spec.cacheBlocks ? 1 : 0);
  return w.finish();
}

interface SizedCell {
  readonly cell: CellInput;
  readonly column: Uint8Array;
  readonly size: number;
}

function sizeCell(cell: CellInput): SizedCell {
  const column = utf8(cell.column);
  let size = bytesFieldSize(column.length) + bytesFieldSize(cell.data.length);
  if (cell.row !== undefined) size += bytesFieldSize(cell.row.length);
  if (cell.timestamp !== undefined) size += 1 + varintSize(cell.timestamp);
  return { cell, column, size };
}

/** Encodes a CellSet (a multi-row put body). */
export function encodeCellSet(rows: readonly RowInput[]): Buffer {
  // Pass 1: sizes, so that every length prefix is known and the body is written into one exact buffer.
  const sized: { key: Uint8Array; size: number; cells: SizedCell[] }[] = [];
  let total = 0;
  for (const row of rows) {
    let size = bytesFieldSize(row.key.length);
    const cells = row.cells.map(sizeCell);
    for (const c of cells) size += 1 + varintSize(c.size) + c.size;
    sized.push({ key: row.key, size, cells });
    total += 1 + varintSize(size) + size;
  }
  // Pass 2: write.
  const w = new Writer(total);
  for (const row of sized) {
    w.varintField(0x0a, row.size);
    w.bytesField(0x0a, row.key);
    for (const { cell, column, size } of row.cells) {
      w.varintField(0x12, size);
      if (cell.row !== undefined) w.bytesField(0x0a, cell.row);
      w.bytesField(0x12, column);
      if (cell.timestamp !== undefined) w.varintField(0x18, cell.timestamp);
      w.bytesField(0x22, cell.data);
    }
  }
  return w.finish();
}

/** Encodes a TableInfo (what `GET /<table>/regions` answers): for fake servers in tests. */
export function encodeTableInfo(info: TableInfo): Buffer {
  const w = new Writer(64);
  w.bytesField(0x0a, utf8(info.name));
  for (const region of info.regions) {
    const r = new Writer(64);
    r.bytesField(0x0a, utf8(region.name));
    r.bytesField(0x12, region.startKey);
    r.bytesField(0x1a, region.endKey);
    r.varintField(0x20, region.id);
    r.bytesField(0x2a, utf8(region.location));
    w.bytesField(0x12, r.finish());
  }
  return w.finish();
}
