import { PermanentError } from '../shared/errors.js';
import type { OutputRow } from '../step/ports.js';

/**
 * The part being filled: rows are encoded to UTF-8 column buffers as they arrive, so the buffer's size is
 * exact (not a guess from string lengths), JS strings can be collected at once, and a sealed part can be
 * handed to an encoder thread by transferring its ArrayBuffers instead of copying them.
 */

/** A UTF-8 string column in Arrow layout: value i is `data[offsets[i]..offsets[i+1])`. */
export interface Utf8Column {
  readonly offsets: Int32Array;
  readonly data: Uint8Array;
  /** Every value is the same (a part's `db` and `collection`, usually its `record_type`): its statistics need no comparisons. */
  readonly uniform?: boolean;
}

/** Output column names, in file order (DESIGN.md §3.5). */
export const STRING_COLUMNS = ['id', 'record', 'db', 'collection', 'row_key', 'record_type'] as const;
export type StringColumnName = (typeof STRING_COLUMNS)[number];

/** A sealed part: `rows` rows in columnar form. Arrays may be longer than needed; only `rows` are valid. */
export interface ColumnarPart {
  readonly rows: number;
  /** UTF-8 bytes of every string column plus 8 per timestamp: the part's uncompressed size. */
  readonly bytes: number;
  /** Epoch ms per row. */
  readonly timestamps: Float64Array;
  readonly columns: Readonly<Record<StringColumnName, Utf8Column>>;
}

export interface PartLimits {
  /** A part is sealed once it holds this many rows. */
  readonly partMaxRows: number;
  /** …or once its uncompressed size reaches this many bytes. */
  readonly partMaxBytes: number;
}

const FIRST_BYTES = 64 * 1024;
const INITIAL_ROWS = 1024;
// A UTF-16 code unit never takes more than 3 UTF-8 bytes: reserving this much makes `Buffer.write` exact.
const MAX_UTF8_PER_UNIT = 3;
// Room above the part's byte cap for the value that crosses it (a 16 MiB document, say).
const HEADROOM = 64 * 1024 * 1024;

// Resizable ArrayBuffers (ES2024) are in Node 24 but not in this project's ES2023 type library.
interface ResizableArrayBuffer extends ArrayBuffer {
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}
const ResizableArrayBuffer = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => ResizableArrayBuffer;

/**
 * Values go into one resizable ArrayBuffer: its address range is reserved up front and memory committed
 * only as it grows, so growing never copies, and the encoder gets contiguous bytes without joining chunks.
 * The buffer is its own (not a pool slice), so it can be transferred to an encoder thread.
 * Buffer.write is the fastest UTF-16 → UTF-8 path in Node; the part's size is thereby exact, not a guess.
 */
class Utf8ColumnBuilder {
  private buffer: ResizableArrayBuffer;
  private view: Buffer;
  private offsets = new Int32Array(INITIAL_ROWS + 1);
  private used = 0;
  private count = 0;
  private first: string | undefined;
  private uniform = true;

  constructor(maxBytes: number, spent?: Utf8Column) {
    const reusable = spent !== undefined && isResizable(spent.data.buffer) && spent.data.buffer.maxByteLength >= maxBytes + HEADROOM;
    // A spent part's buffer keeps its committed pages: filling it again costs no page faults.
    this.buffer = reusable ? spent.data.buffer as ResizableArrayBuffer : new ResizableArrayBuffer(FIRST_BYTES, { maxByteLength: maxBytes + HEADROOM });
    if (reusable && spent.offsets.length > INITIAL_ROWS) this.offsets = spent.offsets as Int32Array<ArrayBuffer>;
    this.view = Buffer.from(this.buffer); // length-tracking: follows resize()
  }

  get byteLength(): number {
    return this.used;
  }

  /** Appends one value; returns its UTF-8 byte length. */
  append(value: string): number {
    // The same string object row after row (the run's db and collection): a pointer comparison.
    if (this.count === 0) this.first = value;
    else if (this.uniform && value !== this.first) this.uniform = false;
    const needed = this.used + value.length * MAX_UTF8_PER_UNIT;
    if (needed > this.buffer.byteLength) this.grow(needed);
    const written = value.length === 0 ? 0 : this.view.write(value, this.used, 'utf8');
    this.used += written;
    this.count += 1;
    if (this.count >= this.offsets.length) this.offsets = grow(this.offsets, this.offsets.length * 2);
    this.offsets[this.count] = this.used;
    return written;
  }

  /** Appends one value given as its UTF-8 bytes (a copy, no encoding); returns its byte length. */
  appendBytes(value: Uint8Array): number {
    this.uniform = false;
    const needed = this.used + value.length;
    if (needed > this.buffer.byteLength) this.grow(needed);
    this.view.set(value, this.used);
    this.used += value.length;
    this.count += 1;
    if (this.count >= this.offsets.length) this.offsets = grow(this.offsets, this.offsets.length * 2);
    this.offsets[this.count] = this.used;
    return value.length;
  }

  build(): Utf8Column {
    return { offsets: this.offsets, data: new Uint8Array(this.buffer, 0, this.used), uniform: this.count > 0 && this.uniform };
  }

  private grow(needed: number): void {
    const target = Math.max(needed, this.buffer.byteLength * 2);
    if (needed <= this.buffer.maxByteLength) {
      this.buffer.resize(Math.min(target, this.buffer.maxByteLength));
      return;
    }
    // A value larger than the headroom: the only case that copies.
    const bigger = new ResizableArrayBuffer(target, { maxByteLength: target + HEADROOM });
    new Uint8Array(bigger).set(new Uint8Array(this.buffer, 0, this.used));
    this.buffer = bigger;
    this.view = Buffer.from(bigger);
  }
}

function isResizable(buffer: ArrayBufferLike): buffer is ResizableArrayBuffer {
  return (buffer as { resizable?: unknown }).resizable === true && !(buffer as { detached?: boolean }).detached;
}

function grow<T extends Int32Array | Float64Array>(array: T, length: number): T {
  const next = new (array.constructor as new (n: number) => T)(length);
  next.set(array);
  return next;
}

export class PartBuffer {
  private builders!: Record<StringColumnName, Utf8ColumnBuilder>;
  private timestamps!: Float64Array;
  private count = 0;
  private size = 0;
  private readonly limits: PartLimits;
  private spare: ColumnarPart | undefined;

  constructor(limits: PartLimits) {
    this.limits = limits;
    if (!(limits.partMaxRows >= 1) || !(limits.partMaxBytes >= 1)) {
      throw new PermanentError('part limits must be positive', { context: { ...limits } });
    }
    this.reset();
  }

  get rows(): number {
    return this.count;
  }

  get bytes(): number {
    return this.size;
  }

  get isFull(): boolean {
    return this.count >= this.limits.partMaxRows || this.size >= this.limits.partMaxBytes;
  }

  append(row: OutputRow): void {
    if (!Number.isSafeInteger(row.timestamp)) {
      throw new PermanentError('output row timestamp is not an integer of epoch ms', {
        context: { rowKey: row.rowKey, timestamp: String(row.timestamp) },
      });
    }
    const b = this.builders;
    this.size += 8
      + b.id.append(row.id)
      // The decoder hands over the plaintext's own UTF-8 bytes: copying them beats encoding the text again.
      + (row.recordUtf8 === undefined ? b.record.append(row.record) : b.record.appendBytes(row.recordUtf8))
      + b.db.append(row.db)
      + b.collection.append(row.collection)
      + b.row_key.append(row.rowKey)
      + b.record_type.append(row.recordType);
    if (this.count >= this.timestamps.length) this.timestamps = grow(this.timestamps, this.timestamps.length * 2);
    this.timestamps[this.count] = row.timestamp;
    this.count += 1;
  }

  /**
   * Takes back a part the encoder is done with (`EncodedPart.spent`): the next part is filled into its
   * buffers, whose memory is already committed (about 1 µs per record less than fresh pages, BENCHMARKS.md).
   * One spare part is kept; the part must be no one else's any more.
   */
  recycle(part: ColumnarPart): void {
    this.spare = part;
  }

  /** Hands over the accumulated rows and starts an empty part. */
  take(): ColumnarPart {
    const b = this.builders;
    const part: ColumnarPart = {
      rows: this.count,
      bytes: this.size,
      timestamps: this.timestamps,
      columns: {
        id: b.id.build(),
        record: b.record.build(),
        db: b.db.build(),
        collection: b.collection.build(),
        row_key: b.row_key.build(),
        record_type: b.record_type.build(),
      },
    };
    this.reset();
    return part;
  }

  private reset(): void {
    const max = this.limits.partMaxBytes;
    const spare = this.spare?.columns;
    this.builders = {
      id: new Utf8ColumnBuilder(max, spare?.id),
      record: new Utf8ColumnBuilder(max, spare?.record),
      db: new Utf8ColumnBuilder(max, spare?.db),
      collection: new Utf8ColumnBuilder(max, spare?.collection),
      row_key: new Utf8ColumnBuilder(max, spare?.row_key),
      record_type: new Utf8ColumnBuilder(max, spare?.record_type),
    };
    const timestamps = this.spare?.timestamps;
    this.timestamps = timestamps !== undefined && timestamps.length >= INITIAL_ROWS && timestamps.byteLength > 0 ? timestamps : new Float64Array(INITIAL_ROWS);
    this.spare = undefined;
    this.count = 0;
    this.size = 0;
  }
}

/** The ArrayBuffers a part owns: transferring them to an encoder thread moves the part without a copy. */
export function partBuffers(part: ColumnarPart): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>([part.timestamps.buffer as ArrayBuffer]);
  for (const name of STRING_COLUMNS) {
    buffers.add(part.columns[name].offsets.buffer as ArrayBuffer);
    buffers.add(part.columns[name].data.buffer as ArrayBuffer);
  }
  return [...buffers];
}
