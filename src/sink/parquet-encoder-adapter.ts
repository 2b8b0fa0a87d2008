import { createHash } from 'node:crypto';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { constants as zlibConstants, zstdCompressSync } from 'node:zlib';
import { parquetMetadata } from 'hyparquet';
import type { ColumnarPart, Utf8Column } from './part-buffer.js';

/**
 * Columnar part → Parquet bytes, in memory, with a writer for the output's one fixed schema (DESIGN §3.5):
 * seven required columns, PLAIN pages of at most 1 MiB, one row group, compressed by Node's own zstd. The
 * part's UTF-8 buffers are copied once, into the pages, and never become strings. Then the footer is read
 * back by an independent parser (hyparquet) and its row count checked, so a short file is never published.
 * pyarrow and DuckDB read these files (test/unit/sink-parquet-conformance.test.ts).
 *
 * This file is also the encoder thread's entry point, so it imports packages only (no relative runtime
 * imports) and uses erasable TypeScript: under the tests Node loads it straight from source.
 */

export type ParquetCompression = 'zstd' | 'none';

export interface EncodeOptions {
  readonly compression: ParquetCompression;
}

export interface EncodedPart {
  readonly bytes: Uint8Array;
  /** Row count read back from the written footer. */
  readonly rows: number;
  readonly sha256: string;
  /** Milliseconds spent encoding (pages, compression, footer, verification, hash). */
  readonly encodeMs: number;
  /**
   * The encoded part itself, its buffers handed back (from the encoder thread, transferred) so the next part
   * can be filled in memory already committed instead of fresh pages. Its contents are stale: only a
   * `PartBuffer` that overwrites them takes it (`recycle`).
   */
  readonly spent?: ColumnarPart;
}

export const ENCODER_WORKER_ROLE = 'ingest-replica/parquet-encoder';

// ─── Thrift compact protocol (the subset Parquet's page headers and footer use) ──────────────────────

type Thrift =
  | { readonly t: 'i32' | 'i64'; readonly v: number }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'binary'; readonly v: Uint8Array }
  | { readonly t: 'list'; readonly v: readonly Thrift[] }
  | { readonly t: 'struct'; readonly v: readonly ThriftField[] };
/** A field id and its value; an undefined value is an absent optional field. */
type ThriftField = readonly [id: number, value: Thrift | undefined];

const i32 = (v: number): Thrift => ({ t: 'i32', v });
const i64 = (v: number): Thrift => ({ t: 'i64', v });
const bool = (v: boolean): Thrift => ({ t: 'bool', v });
const binary = (v: Uint8Array): Thrift => ({ t: 'binary', v });
const text = (v: string): Thrift => binary(Buffer.from(v, 'utf8'));
const list = (v: readonly Thrift[]): Thrift => ({ t: 'list', v });
const struct = (...v: ThriftField[]): Thrift => ({ t: 'struct', v });

const COMPACT_TYPE = { i32: 5, i64: 6, binary: 8, list: 9, struct: 12 } as const;
const BOOL_TRUE = 1;
const BOOL_FALSE = 2;

class CompactWriter {
  readonly bytes: number[] = [];

  varint(n: number): void {
    // Safe integers only (every Parquet size and count here); arithmetic, not bit operations, past 2^31.
    let rest = n;
    while (rest >= 0x80) {
      this.bytes.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.bytes.push(rest);
  }

  zigzag(n: number): void {
    if (!Number.isSafeInteger(n)) throw new Error(`thrift integer out of range: ${n}`);
    this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
  }

  value(value: Thrift): void {
    switch (value.t) {
      case 'i32': case 'i64': this.zigzag(value.v); break;
      case 'bool': this.bytes.push(value.v ? BOOL_TRUE : BOOL_FALSE); break;
      case 'binary':
        this.varint(value.v.length);
        for (const byte of value.v) this.bytes.push(byte);
        break;
      case 'list': this.list(value.v); break;
      case 'struct': this.struct(value.v); break;
    }
  }

  private list(items: readonly Thrift[]): void {
    const first = items[0];
    const type = first === undefined ? COMPACT_TYPE.struct : elementType(first);
    if (items.length < 15) this.bytes.push((items.length << 4) | type);
    else {
      this.bytes.push(0xf0 | type);
      this.varint(items.length);
    }
    for (const item of items) this.value(item);
  }

  private struct(fields: readonly ThriftField[]): void {
    let last = 0;
    for (const [id, value] of fields) {
      if (value === undefined) continue;
      const type = value.t === 'bool' ? (value.v ? BOOL_TRUE : BOOL_FALSE) : COMPACT_TYPE[value.t];
      const delta = id - last;
      if (delta > 0 && delta <= 15) this.bytes.push((delta << 4) | type);
      else {
        this.bytes.push(type);
        this.zigzag(id);
      }
      last = id;
      if (value.t !== 'bool') this.value(value);
    }
    this.bytes.push(0); // stop
  }
}

function elementType(value: Thrift): number {
  if (value.t === 'bool') throw new Error('thrift lists of booleans are not used by this writer');
  return COMPACT_TYPE[value.t];
}

function thriftBytes(value: Thrift): Uint8Array {
  const writer = new CompactWriter();
  writer.value(value);
  return Uint8Array.from(writer.bytes);
}

// ─── Parquet (parquet.thrift field ids and enum values) ──────────────────────────────────────────────

const TYPE_INT64 = 2;
const TYPE_BYTE_ARRAY = 6;
const REQUIRED = 0;
const CONVERTED_UTF8 = 0;
const CONVERTED_TIMESTAMP_MILLIS = 9;
const ENCODING_PLAIN = 0;
const ENCODING_RLE = 3;
const PAGE_DATA = 0;
const CODEC: Record<ParquetCompression, number> = { none: 0, zstd: 6 };
const MAGIC = Buffer.from('PAR1', 'latin1');

/** Pages are cut at this many uncompressed bytes (the common writers' default), one value at least. */
const PAGE_BYTES = 1 << 20;
/** Column statistics are written when min and max are at most this long (never truncated, so exact). */
const MAX_STATISTIC_BYTES = 256;
/** zstd level 1: BENCHMARKS.md "Parquet compression" (levels 2–3 were no smaller on this data). */
const ZSTD_LEVEL = 1;

type ColumnName = 'id' | 'timestamp' | 'record' | 'db' | 'collection' | 'row_key' | 'record_type';
/** File order of the output columns (DESIGN §3.5). */
const COLUMNS: readonly ColumnName[] = ['id', 'timestamp', 'record', 'db', 'collection', 'row_key', 'record_type'];
/**
 * Columns whose min and max can let a reader skip a file. Not `record` (large, never compared), nor `id` and
 * `row_key`: unique values in the row keys' hash order, so every part spans nearly the whole range of both.
 */
const WITH_STATISTICS: ReadonlySet<ColumnName> = new Set(['timestamp', 'db', 'collection', 'record_type']);

const STRING_LOGICAL = struct([1, struct()]);
const UTC_MILLIS_LOGICAL = struct([8, struct([1, bool(true)], [2, struct([1, struct()])])]);

function schemaElements(): Thrift[] {
  const root = struct([4, text('schema')], [5, i32(COLUMNS.length)]);
  return [root, ...COLUMNS.map((name) => name === 'timestamp'
    ? struct([1, i32(TYPE_INT64)], [3, i32(REQUIRED)], [4, text(name)], [6, i32(CONVERTED_TIMESTAMP_MILLIS)], [10, UTC_MILLIS_LOGICAL])
    : struct([1, i32(TYPE_BYTE_ARRAY)], [3, i32(REQUIRED)], [4, text(name)], [6, i32(CONVERTED_UTF8)], [10, STRING_LOGICAL]))];
}

interface Statistics {
  readonly min: Uint8Array;
  readonly max: Uint8Array;
}

interface ColumnChunk {
  readonly name: ColumnName;
  readonly physicalType: number;
  /** Page headers and page bodies, in file order. */
  readonly chunks: Uint8Array[];
  readonly uncompressed: number;
  readonly compressed: number;
  readonly statistics: Statistics | undefined;
}

/** Compresses a page; the plain bytes may be a scratch buffer that the caller reuses, so 'none' copies them. */
function compress(plain: Uint8Array, compression: ParquetCompression): Uint8Array {
  if (compression === 'none') return Uint8Array.prototype.slice.call(plain);
  return zstdCompressSync(plain, { params: { [zlibConstants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });
}

/** Appends one data page (header + body) of `values` PLAIN values to `column`. */
function addPage(column: { chunks: Uint8Array[]; uncompressed: number; compressed: number }, plain: Uint8Array, values: number, compression: ParquetCompression): void {
  const body = compress(plain, compression);
  const header = thriftBytes(struct(
    [1, i32(PAGE_DATA)],
    [2, i32(plain.length)],
    [3, i32(body.length)],
    // Required columns have no levels; the level encodings are still declared (RLE), as the format asks.
    [5, struct([1, i32(values)], [2, i32(ENCODING_PLAIN)], [3, i32(ENCODING_RLE)], [4, i32(ENCODING_RLE)])],
  ));
  column.chunks.push(header, body);
  column.uncompressed += header.length + plain.length;
  column.compressed += header.length + body.length;
}

/** Unsigned byte order of data[a..aEnd) against data[b..bEnd): negative, zero or positive. */
function compareBytes(data: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): number {
  const length = Math.min(aEnd - a, bEnd - b);
  for (let k = 0; k < length; k += 1) {
    const difference = data[a + k]! - data[b + k]!;
    if (difference !== 0) return difference;
  }
  return (aEnd - a) - (bEnd - b);
}

/** Values this short are copied byte by byte: cheaper than a native call each. */
const SHORT_VALUE = 48;

/**
 * A UTF-8 column as PLAIN BYTE_ARRAY pages: each value as its 4-byte little-endian length and its bytes.
 * `scratch` holds one page at a time (compression copies it out), so pages cost no fresh memory each.
 */
function stringColumn(name: ColumnName, column: Utf8Column, rows: number, compression: ParquetCompression, scratch: Buffer): ColumnChunk {
  const { offsets } = column;
  const data = Buffer.from(column.data.buffer, column.data.byteOffset, column.data.byteLength);
  // A uniform column's min and max are its first value: no comparison per row.
  const withStatistics = WITH_STATISTICS.has(name);
  const compared = withStatistics && column.uniform !== true;
  const out = { chunks: [] as Uint8Array[], uncompressed: 0, compressed: 0 };
  let minAt = 0;
  let maxAt = 0;
  for (let first = 0; first < rows;) {
    let last = first + 1;
    while (last < rows && (last - first + 1) * 4 + (offsets[last + 1]! - offsets[first]!) <= PAGE_BYTES) last += 1;
    const size = (last - first) * 4 + (offsets[last]! - offsets[first]!);
    const page = size <= scratch.length ? scratch.subarray(0, size) : Buffer.allocUnsafe(size);
    let at = 0;
    for (let row = first; row < last; row += 1) {
      const start = offsets[row]!;
      const end = offsets[row + 1]!;
      at = page.writeUInt32LE(end - start, at);
      if (end - start > SHORT_VALUE) at += data.copy(page, at, start, end);
      else for (let k = start; k < end; k += 1) page[at++] = data[k]!;
      if (compared) {
        if (compareBytes(data, start, end, offsets[minAt]!, offsets[minAt + 1]!) < 0) minAt = row;
        else if (compareBytes(data, start, end, offsets[maxAt]!, offsets[maxAt + 1]!) > 0) maxAt = row;
      }
    }
    addPage(out, page, last - first, compression);
    first = last;
  }
  const valueAt = (row: number): Uint8Array => data.subarray(offsets[row], offsets[row + 1]);
  const min = valueAt(minAt);
  const max = valueAt(maxAt);
  const statistics = withStatistics && rows > 0 && Math.max(min.length, max.length) <= MAX_STATISTIC_BYTES
    ? { min: Uint8Array.from(min), max: Uint8Array.from(max) }
    : undefined;
  return { name, physicalType: TYPE_BYTE_ARRAY, ...out, statistics };
}

/** Epoch milliseconds as PLAIN INT64 pages (little-endian, two's complement). */
function timestampColumn(timestamps: Float64Array, rows: number, compression: ParquetCompression, scratch: Buffer): ColumnChunk {
  const out = { chunks: [] as Uint8Array[], uncompressed: 0, compressed: 0 };
  const perPage = PAGE_BYTES / 8;
  let min = Infinity;
  let max = -Infinity;
  for (let first = 0; first < rows; first += perPage) {
    const last = Math.min(rows, first + perPage);
    const page = scratch.subarray(0, (last - first) * 8);
    for (let row = first; row < last; row += 1) {
      const millis = timestamps[row]!;
      if (millis < min) min = millis;
      if (millis > max) max = millis;
      page.writeBigInt64LE(BigInt(millis), (row - first) * 8);
    }
    addPage(out, page, last - first, compression);
  }
  const int64 = (millis: number): Uint8Array => {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64LE(BigInt(millis));
    return bytes;
  };
  const statistics = rows > 0 ? { min: int64(min), max: int64(max) } : undefined;
  return { name: 'timestamp', physicalType: TYPE_INT64, ...out, statistics };
}

function columnChunks(part: ColumnarPart, compression: ParquetCompression): ColumnChunk[] {
  const scratch = Buffer.allocUnsafeSlow(PAGE_BYTES);
  return COLUMNS.map((name) => name === 'timestamp'
    ? timestampColumn(part.timestamps, part.rows, compression, scratch)
    : stringColumn(name, part.columns[name], part.rows, compression, scratch));
}

function footer(columns: readonly ColumnChunk[], offsets: readonly number[], rows: number, compression: ParquetCompression): Uint8Array {
  const chunkMeta = columns.map((column, k) => struct(
    [2, i64(offsets[k]!)],
    [3, struct(
      [1, i32(column.physicalType)],
      [2, list([i32(ENCODING_PLAIN), i32(ENCODING_RLE)])],
      [3, list([text(column.name)])],
      [4, i32(CODEC[compression])],
      [5, i64(rows)],
      [6, i64(column.uncompressed)],
      [7, i64(column.compressed)],
      [9, i64(offsets[k]!)],
      [12, column.statistics && struct([3, i64(0)], [5, binary(column.statistics.max)], [6, binary(column.statistics.min)])],
    )],
  ));
  const rowGroup = struct(
    [1, list(chunkMeta)],
    [2, i64(columns.reduce((sum, c) => sum + c.uncompressed, 0))],
    [3, i64(rows)],
    [5, i64(offsets[0]!)],
    [6, i64(columns.reduce((sum, c) => sum + c.compressed, 0))],
    [7, i32(0)],
  );
  return thriftBytes(struct(
    [1, i32(1)],
    [2, list(schemaElements())],
    [3, i64(rows)],
    [4, list([rowGroup])],
    [6, text('ingest-replica')],
    // Min and max are by the type's own order (bytes unsigned, int64 signed): TypeDefinedOrder per column.
    [7, list(COLUMNS.map(() => struct([1, struct()])))],
  ));
}

/** The whole Parquet file of a part: one row group, the columns in schema order. */
export function writeParquet(part: ColumnarPart, options: EncodeOptions): Uint8Array {
  const columns = columnChunks(part, options.compression);
  const pieces: Uint8Array[] = [MAGIC];
  const offsets: number[] = [];
  let at = MAGIC.length;
  for (const column of columns) {
    offsets.push(at);
    pieces.push(...column.chunks);
    at += column.compressed;
  }
  const meta = footer(columns, offsets, part.rows, options.compression);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(meta.length);
  pieces.push(meta, length, MAGIC);
  // A buffer of its own (never a slice of Node's pool), so that the encoder thread can transfer it.
  const file = new Uint8Array(pieces.reduce((sum, piece) => sum + piece.length, 0));
  let written = 0;
  for (const piece of pieces) {
    file.set(piece, written);
    written += piece.length;
  }
  return file;
}

// ─── verification and the part's life cycle ──────────────────────────────────────────────────────────

/** Number of rows the file's footer declares, after checking it against its row groups. */
export function footerRowCount(bytes: Uint8Array): number {
  const buffer = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? bytes.buffer as ArrayBuffer
    : bytes.slice().buffer;
  const metadata = parquetMetadata(buffer);
  const declared = Number(metadata.num_rows);
  const inGroups = metadata.row_groups.reduce((sum, group) => sum + Number(group.num_rows), 0);
  if (declared !== inGroups) throw new Error(`parquet footer declares ${declared} rows but its row groups hold ${inGroups}`);
  return declared;
}

type Detachable = ArrayBuffer & { transfer(newByteLength?: number): ArrayBuffer };

/** Frees the part's buffers at once instead of at the next GC, so a part and its file are not both held long. */
function release(...views: readonly ArrayBufferView[]): void {
  for (const view of views) {
    const buffer = view.buffer as Detachable;
    if (buffer.byteLength > 0) buffer.transfer(0);
  }
}

function partViews(part: ColumnarPart): ArrayBufferView[] {
  return [part.timestamps, ...Object.values(part.columns).flatMap((c) => [c.offsets, c.data])];
}

/**
 * Encodes and verifies a part. Consumes it: the result hands the part back as `spent` (its buffers to be
 * refilled by the next part); when encoding fails, the part's buffers are detached (freed) instead.
 */
export function encodeParquetPart(part: ColumnarPart, options: EncodeOptions): EncodedPart {
  const started = performance.now();
  const expectedRows = part.rows;
  let bytes: Uint8Array;
  try {
    bytes = writeParquet(part, options);
  } catch (e) {
    release(...partViews(part));
    throw e;
  }
  const rows = footerRowCount(bytes);
  // Never publish a short file: the written footer must account for every row handed in.
  if (rows !== expectedRows) throw new Error(`parquet part holds ${rows} rows, expected ${expectedRows}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { bytes, rows, sha256, encodeMs: performance.now() - started, spent: part };
}

// ─── encoder thread ──────────────────────────────────────────────────────────────────────────────────

export interface EncodeRequest {
  readonly id: number;
  readonly part: ColumnarPart;
  readonly options: EncodeOptions;
}

export type EncodeResponse =
  | { readonly id: number; readonly ok: true; readonly part: EncodedPart }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly stack?: string };

function serve(port: NonNullable<typeof parentPort>): void {
  port.on('message', (request: EncodeRequest) => {
    let response: EncodeResponse;
    try {
      const part = encodeParquetPart(request.part, request.options);
      response = { id: request.id, ok: true, part };
      // The file and the spent part's buffers move back to the main thread: no copy, no fresh memory there.
      const spent = new Set(partViews(request.part).map((v) => v.buffer as ArrayBuffer));
      port.postMessage(response, [part.bytes.buffer as ArrayBuffer, ...spent]);
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      response = { id: request.id, ok: false, message: error.message, stack: error.stack };
      port.postMessage(response);
    }
  });
}

if (!isMainThread && parentPort !== null && (workerData as { role?: string } | null)?.role === ENCODER_WORKER_ROLE) {
  serve(parentPort);
}
