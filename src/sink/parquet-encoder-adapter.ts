import { createHash } from 'node:crypto';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  Field, makeData, RecordBatch, Schema, Struct, Table as ArrowTable, TimestampMillisecond, Utf8, tableToIPC,
  type Data,
} from 'apache-arrow';
import { parquetMetadata } from 'hyparquet';
import { Compression, EnabledStatistics, Table, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';
import type { ColumnarPart, Utf8Column } from './part-buffer.js';

/**
 * Columnar part → Parquet bytes, in memory: Arrow data over the part's own UTF-8 buffers (no copy) → Arrow
 * IPC stream → parquet-wasm. Then the footer is read back with hyparquet and its row count checked, because
 * parquet-wasm has produced valid but short files without raising (wasm memory exhausted by a leak).
 *
 * This file is also the encoder thread's entry point, so it imports packages only (no relative runtime
 * imports) and uses erasable TypeScript: under the tests Node loads it straight from source.
 */

export type ParquetCompression = 'snappy' | 'zstd';

export interface EncodeOptions {
  readonly compression: ParquetCompression;
}

export interface EncodedPart {
  readonly bytes: Uint8Array;
  /** Row count read back from the written footer. */
  readonly rows: number;
  readonly sha256: string;
  /** Milliseconds spent encoding (Arrow + Parquet + verification + hash). */
  readonly encodeMs: number;
}

export const ENCODER_WORKER_ROLE = 'ingest-replica/parquet-encoder';

const UTC_MILLIS = new TimestampMillisecond('UTC');
const FIELDS = [
  new Field('id', new Utf8(), false),
  new Field('timestamp', UTC_MILLIS, false),
  new Field('record', new Utf8(), false),
  new Field('db', new Utf8(), false),
  new Field('collection', new Utf8(), false),
  new Field('row_key', new Utf8(), false),
  new Field('record_type', new Utf8(), false),
];
const SCHEMA = new Schema(FIELDS);
// Unique per row: a dictionary attempt would only cost time before falling back to plain encoding.
const NO_DICTIONARY = ['id', 'record', 'row_key'];

const CODECS: Record<ParquetCompression, Compression> = { snappy: Compression.SNAPPY, zstd: Compression.ZSTD };

function utf8Data(column: Utf8Column, rows: number): Data<Utf8> {
  const offsets = column.offsets.subarray(0, rows + 1);
  const data = column.data.subarray(0, offsets[rows] ?? 0);
  return makeData({ type: new Utf8(), length: rows, nullCount: 0, valueOffsets: offsets, data });
}

function arrowIpc(part: ColumnarPart): Uint8Array {
  const rows = part.rows;
  const millis = new BigInt64Array(rows);
  for (let i = 0; i < rows; i += 1) millis[i] = BigInt(part.timestamps[i] ?? 0);
  const c = part.columns;
  const children = [
    utf8Data(c.id, rows),
    makeData({ type: UTC_MILLIS, length: rows, nullCount: 0, data: millis }),
    utf8Data(c.record, rows),
    utf8Data(c.db, rows),
    utf8Data(c.collection, rows),
    utf8Data(c.row_key, rows),
    utf8Data(c.record_type, rows),
  ];
  const batch = new RecordBatch(SCHEMA, makeData({ type: new Struct(FIELDS), length: rows, nullCount: 0, children }));
  return tableToIPC(new ArrowTable([batch]), 'stream');
}

function writeWasmParquet(ipc: Uint8Array, options: EncodeOptions): Uint8Array {
  // Ownership of wasm objects: the chained builder calls each consume the previous builder, `build()`
  // consumes the last one, and `writeParquet` consumes both the table and the properties whether it
  // succeeds or throws. Anything created and not handed on must be freed here: wasm memory only grows.
  const table = Table.fromIPCStream(ipc);
  release(ipc);
  let properties;
  try {
    let builder = new WriterPropertiesBuilder()
      .setCompression(CODECS[options.compression])
      .setCreatedBy('ingest-replica')
      .setColumnStatisticsEnabled('record', EnabledStatistics.None);
    for (const name of NO_DICTIONARY) builder = builder.setColumnDictionaryEnabled(name, false);
    properties = builder.build();
  } catch (e) {
    table.free();
    throw e;
  }
  return writeParquet(table, properties);
}

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

/**
 * Frees buffers at once instead of at the next GC: a part's data exists in several copies on its way into
 * wasm (column buffers, IPC stream, wasm's own copy), and letting each linger would multiply peak memory.
 */
function release(...views: readonly ArrayBufferView[]): void {
  for (const view of views) {
    const buffer = view.buffer as Detachable;
    if (buffer.byteLength > 0) buffer.transfer(0);
  }
}

function partViews(part: ColumnarPart): ArrayBufferView[] {
  return [part.timestamps, ...Object.values(part.columns).flatMap((c) => [c.offsets, c.data])];
}

/** Encodes and verifies a part. Consumes it: the part's buffers are detached (freed) on the way. */
export function encodeParquetPart(part: ColumnarPart, options: EncodeOptions): EncodedPart {
  const started = performance.now();
  const expectedRows = part.rows;
  const ipc = arrowIpc(part);
  release(...partViews(part));
  const bytes = writeWasmParquet(ipc, options);
  const rows = footerRowCount(bytes);
  // Never publish a short file: the written footer must account for every row handed in.
  if (rows !== expectedRows) throw new Error(`parquet part holds ${rows} rows, expected ${expectedRows}`);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  return { bytes, rows, sha256, encodeMs: performance.now() - started };
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
      port.postMessage(response, [part.bytes.buffer as ArrayBuffer]);
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
