import { createHash } from 'node:crypto';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { wasmMemory } from 'parquet-wasm';
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
  const threads = createThreadEncoder({ compression: 'snappy', threads: 1 });
  afterAll(() => threads.close());

  it('writes timestamp as TIMESTAMP(MILLIS) adjusted to UTC and every other column as a required UTF-8 string', () => {
    const encoded = encodeParquetPart(partOf(rowsOf(10)), { compression: 'snappy' });
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
    const encoded = encodeParquetPart(partOf(rows), { compression: 'snappy' });
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
    const snappy = encodeParquetPart(partOf(rowsOf(321)), { compression: 'snappy' });
    const zstd = encodeParquetPart(partOf(rowsOf(321)), { compression: 'zstd' });
    expect(snappy.rows).toBe(321);
    expect(snappy.sha256).toBe(createHash('sha256').update(snappy.bytes).digest('hex'));
    const codecOf = (bytes: Uint8Array): string[] =>
      parquetMetadata(arrayBufferOf(bytes)).row_groups[0]!.columns.map((c) => c.meta_data!.codec);
    expect(new Set(codecOf(snappy.bytes))).toEqual(new Set(['SNAPPY']));
    expect(new Set(codecOf(zstd.bytes))).toEqual(new Set(['ZSTD']));
  });

  it('refuses a file whose footer cannot be read', () => {
    const encoded = encodeParquetPart(partOf(rowsOf(5)), { compression: 'snappy' });
    expect(() => footerRowCount(encoded.bytes.subarray(0, encoded.bytes.length - 3))).toThrow();
    expect(footerRowCount(encoded.bytes)).toBe(5);
  });

  it('frees every wasm object: wasm memory stops growing over repeated encodes', () => {
    const rows = rowsOf(20_000);
    for (let i = 0; i < 3; i += 1) encodeParquetPart(partOf(rows), { compression: 'zstd' });
    const settled = wasmMemory().buffer.byteLength;
    for (let i = 0; i < 12; i += 1) encodeParquetPart(partOf(rows), { compression: i % 2 === 0 ? 'zstd' : 'snappy' });
    expect(wasmMemory().buffer.byteLength).toBe(settled);
  });

  it('encodes on an encoder thread to the same bytes as on the calling thread', async () => {
    const rows = rowsOf(3000);
    const inline = encodeParquetPart(partOf(rows), { compression: 'snappy' });
    const [a, b] = await Promise.all([threads.encode(partOf(rows)), threads.encode(partOf(rowsOf(10, 5)))]);
    expect(a!.sha256).toBe(inline.sha256);
    expect(a!.rows).toBe(3000);
    expect(b!.rows).toBe(10);
  });
});
