import { createHash } from 'node:crypto';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, describe, expect, it } from 'vitest';
import { createThreadEncoder } from '../../src/sink/encoder-pool.js';
import { OUTPUT_COLUMNS } from '../../src/sink/manifest.js';
import { encodeParquetPart, footerRowCount } from '../../src/sink/parquet-encoder-adapter.js';
import { PartBuffer, type ColumnarPart } from '../../src/sink/part-buffer.js';
import type { OutputRow } from '../../src/step/ports.js';

const rowsOf = (count: number, from = 0): OutputRow[] => Array.from({ length: count }, (_, k) => {
  const i = from + k;
  return {
    id: `{"declarationId":"d-${i}"}`,
    timestamp: Date.UTC(2020, 7, 5, 7, 7) + i * 1001,
    record: `{"_id":{"declarationId":"d-${i}"},"name":"Siân Ní Bhriain — “${i}” ✓ 😀","n":${i}}`,
    db: 'core', collection: 'addresses', rowKey: `\\x00\\x12key-${i}`, recordType: i % 5 === 0 ? 'MONGO_INSERT' : 'MONGO_UPDATE',
  };
});

function partOf(rows: readonly OutputRow[]): ColumnarPart {
  const buffer = new PartBuffer({ partMaxRows: 1_000_000, partMaxBytes: 1 << 30 });
  for (const row of rows) buffer.append(row);
  return buffer.take();
}

const arrayBufferOf = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer;

describe('Parquet encoder', () => {
  const threads = createThreadEncoder({ compression: 'none', threads: 1 });
  afterAll(() => threads.close());

  it('writes timestamp as TIMESTAMP(MILLIS) adjusted to UTC and every other column as a required UTF-8 string', () => {
    const encoded = encodeParquetPart(partOf(rowsOf(10)), { compression: 'none' });
    const metadata = parquetMetadata(arrayBufferOf(encoded.bytes));
    const columns = metadata.schema.slice(1);
    expect(columns.map((c) => c.name)).toEqual(OUTPUT_COLUMNS.map((c) => c.name));
    const timestamp = columns.find((c) => c.name === 'timestamp');
    expect(timestamp).toMatchObject({ type: 'INT64', repetition_type: 'REQUIRED', logical_type: { type: 'TIMESTAMP', unit: 'MILLIS', isAdjustedToUTC: true } });
    for (const column of columns.filter((c) => c.name !== 'timestamp')) {
      expect(column).toMatchObject({ type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', logical_type: { type: 'STRING' } });
    }
  });

  it('round-trips every value exactly, records byte for byte', async () => {
    const rows = rowsOf(2500);
    const encoded = encodeParquetPart(partOf(rows), { compression: 'none' });
    const read = await parquetReadObjects({ file: arrayBufferOf(encoded.bytes), utf8: true });
    expect(read).toHaveLength(rows.length);
    read.forEach((r, i) => {
      const expected = rows[i]!;
      expect(r.record).toBe(expected.record);
      expect(Buffer.from(r.record as string, 'utf8').equals(Buffer.from(expected.record, 'utf8'))).toBe(true);
      expect((r.timestamp as Date).getTime()).toBe(expected.timestamp);
      expect([r.id, r.db, r.collection, r.row_key, r.record_type])
        .toEqual([expected.id, expected.db, expected.collection, expected.rowKey, expected.recordType]);
    });
  });

  it('reports the footer row count, the SHA-256 of the bytes and the codec asked for', () => {
    const none = encodeParquetPart(partOf(rowsOf(321)), { compression: 'none' });
    const zstd = encodeParquetPart(partOf(rowsOf(321)), { compression: 'zstd' });
    expect(none.rows).toBe(321);
    expect(zstd.rows).toBe(321);
    expect(zstd.sha256).toBe(createHash('sha256').update(zstd.bytes).digest('hex'));
    const codecOf = (bytes: Uint8Array): string[] =>
      parquetMetadata(arrayBufferOf(bytes)).row_groups[0]!.columns.map((c) => c.meta_data!.codec);
    expect(new Set(codecOf(none.bytes))).toEqual(new Set(['UNCOMPRESSED']));
    expect(new Set(codecOf(zstd.bytes))).toEqual(new Set(['ZSTD']));
    expect(zstd.bytes.length).toBeLessThan(none.bytes.length / 2);
  });

  it('refuses a file whose footer cannot be read', () => {
    const encoded = encodeParquetPart(partOf(rowsOf(5)), { compression: 'none' });
    expect(() => footerRowCount(encoded.bytes.subarray(0, encoded.bytes.length - 3))).toThrow();
    expect(footerRowCount(encoded.bytes)).toBe(5);
  });

  it('writes the same bytes for the same rows, and hands the part it consumed back for reuse', () => {
    const rows = rowsOf(2000);
    const part = partOf(rows);
    const first = encodeParquetPart(part, { compression: 'zstd' });
    expect(first.spent).toBe(part);
    expect(encodeParquetPart(partOf(rows), { compression: 'zstd' }).sha256).toBe(first.sha256);
  });

  it('frees the part it consumed when encoding fails', () => {
    const part = partOf(rowsOf(10));
    const broken = { ...part, rows: 11 }; // more rows than the columns hold: the writer throws
    expect(() => encodeParquetPart(broken, { compression: 'zstd' })).toThrow();
    expect(part.columns.record.data.byteLength).toBe(0);
    expect(part.timestamps.length).toBe(0);
  });

  it('cuts pages at 1 MiB, keeps a value larger than a page whole, and reads back every value', async () => {
    const big = 'x'.repeat(1536 * 1024);
    const rows = rowsOf(1200).map((r, i) => (i === 700 ? { ...r, record: big } : { ...r, record: r.record.padEnd(2000, ' ') }));
    const encoded = encodeParquetPart(partOf(rows), { compression: 'zstd' });
    const read = await parquetReadObjects({ file: arrayBufferOf(encoded.bytes), utf8: true, compressors });
    expect(read.map((r) => r.record)).toEqual(rows.map((r) => r.record));
    const record = parquetMetadata(arrayBufferOf(encoded.bytes)).row_groups[0]!.columns[2]!.meta_data!;
    // Every value in PLAIN form (4-byte length + bytes), across ~4 pages: one of them holds the big value alone.
    expect(Number(record.total_uncompressed_size)).toBeGreaterThan(rows.reduce((sum, r) => sum + 4 + r.record.length, 0));
  });

  it('writes exact min and max statistics, by unsigned bytes and signed int64, where they can prune a file', () => {
    const rows = rowsOf(300).map((r, i) => ({ ...r, id: `{"k":"${(i * 7919) % 300}é"}`, timestamp: Date.UTC(1969, 0, 1) + ((i * 31) % 300) * 86_400_000 }));
    const encoded = encodeParquetPart(partOf(rows), { compression: 'none' });
    const chunks = parquetMetadata(arrayBufferOf(encoded.bytes)).row_groups[0]!.columns.map((c) => c.meta_data!);
    const stats = (name: string) => chunks.find((c) => c.path_in_schema[0] === name)!.statistics;
    expect(stats('record_type')).toMatchObject({ min_value: 'MONGO_INSERT', max_value: 'MONGO_UPDATE', null_count: 0n });
    expect(stats('collection')).toMatchObject({ min_value: 'addresses', max_value: 'addresses' });
    const times = rows.map((r) => r.timestamp);
    expect(stats('timestamp')).toMatchObject({ min_value: new Date(Math.min(...times)), max_value: new Date(Math.max(...times)) });
    for (const unique of ['record', 'id', 'row_key']) expect(stats(unique)).toBeUndefined();
  });

  it('encodes on an encoder thread to the same bytes as on the calling thread', async () => {
    const rows = rowsOf(3000);
    const inline = encodeParquetPart(partOf(rows), { compression: 'none' });
    const [a, b] = await Promise.all([threads.encode(partOf(rows)), threads.encode(partOf(rowsOf(10, 5)))]);
    expect(a!.sha256).toBe(inline.sha256);
    expect(a!.rows).toBe(3000);
    expect(b!.rows).toBe(10);
  });
});
