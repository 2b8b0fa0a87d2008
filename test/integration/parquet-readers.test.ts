import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeParquetPart, type ParquetCompression } from '../../src/sink/parquet-encoder-adapter.js';
import { PartBuffer } from '../../src/sink/part-buffer.js';
import type { OutputRow } from '../../src/step/ports.js';
import { PROJECT_PYTHON } from '../support/published-output.js';

/**
 * The sink's own Parquet writer against the readers analysts use (pyarrow, as Spark and Athena read the same
 * format; DuckDB): every value, the column types and the statistics must come back exactly. Synthetic rows only.
 */

const rows: OutputRow[] = Array.from({ length: 3000 }, (_, i) => ({
  id: i === 1 ? '' : `{"declarationId":"d-${(i * 7919) % 3000}"}`,
  // Before and after 1970, to the millisecond: INT64 is signed.
  timestamp: Date.UTC(1965, 0, 1) + i * 86_400_123 * 11,
  record: i === 2 ? 'x'.repeat(1_300_000) : `{"name":"Siân Ní Bhriain — “${i}” ✓ 😀","pad":"${'·'.repeat(i % 700)}","n":${i}}`,
  db: 'core', collection: ['addresses', 'addressé', 'addresses_v2'][i % 3]!, rowKey: `\\x00\\x12key-${i}`,
  recordType: i % 5 === 0 ? 'MONGO_INSERT' : 'MONGO_UPDATE',
}));

function fileOf(compression: ParquetCompression, dir: string): string {
  const buffer = new PartBuffer({ partMaxRows: 1_000_000, partMaxBytes: 1 << 30 });
  for (const row of rows) buffer.append(row);
  const path = join(dir, `${compression}.parquet`);
  writeFileSync(path, encodeParquetPart(buffer.take(), { compression }).bytes);
  return path;
}

const expected = rows.map((r) => ({
  id: r.id, timestamp: r.timestamp, record: r.record, db: r.db, collection: r.collection, row_key: r.rowKey, record_type: r.recordType,
}));
const utf8Order = (values: string[]): [string, string] => {
  const sorted = values.map((v) => Buffer.from(v, 'utf8')).sort(Buffer.compare);
  return [sorted[0]!.toString('utf8'), sorted.at(-1)!.toString('utf8')];
};

describe('Parquet files of the sink, read by pyarrow and DuckDB', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parquet-readers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const compression of ['zstd', 'none'] as const) {
    it(`pyarrow reads every value, the types and exact statistics (${compression})`, async () => {
      const path = fileOf(compression, dir);
      const { stdout } = await promisify(execFile)(PROJECT_PYTHON, [resolve('test/support/read_parquet_file.py'), path], { maxBuffer: 256 * 1024 * 1024 });
      const read = JSON.parse(stdout) as { schema: Record<string, string>; rows: typeof expected; statistics: Record<string, unknown[] | null> };
      expect(read.schema).toEqual({
        id: 'string', timestamp: 'timestamp[ms, tz=UTC]', record: 'string', db: 'string', collection: 'string', row_key: 'string', record_type: 'string',
      });
      expect(read.rows).toEqual(expected);
      const times = rows.map((r) => r.timestamp);
      expect(read.statistics).toEqual({
        id: null,
        timestamp: [Math.min(...times), Math.max(...times)],
        record: null,
        db: ['core', 'core'],
        // Both sides of the one UTF-8 order: 'é' (0xC3 …) sorts after every ASCII byte.
        collection: utf8Order(rows.map((r) => r.collection)),
        row_key: null,
        record_type: ['MONGO_INSERT', 'MONGO_UPDATE'],
      });
    });

    it(`DuckDB reads every value, in order (${compression})`, async () => {
      const path = fileOf(compression, dir);
      const connection = await (await DuckDBInstance.create(':memory:')).connect();
      try {
        const result = await connection.runAndReadAll(
          `SELECT id, epoch_ms(timestamp) AS timestamp, record, db, collection, row_key, record_type FROM read_parquet('${path}')`,
        );
        const read = result.getRowObjects().map((r) => ({ ...r, timestamp: Number(r.timestamp) }));
        expect(read).toEqual(expected);
        const types = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`)).getRowObjects();
        expect(types.map((t) => [t.column_name, t.column_type])).toEqual([
          ['id', 'VARCHAR'], ['timestamp', 'TIMESTAMP WITH TIME ZONE'], ['record', 'VARCHAR'], ['db', 'VARCHAR'],
          ['collection', 'VARCHAR'], ['row_key', 'VARCHAR'], ['record_type', 'VARCHAR'],
        ]);
      } finally {
        connection.closeSync();
      }
    });
  }
});
