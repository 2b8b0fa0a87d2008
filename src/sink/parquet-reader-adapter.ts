import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';

/** Reads the first `limit` rows of a Parquet file held in memory (for operators' inspection). */
export async function readParquetRows(bytes: Uint8Array, limit: number): Promise<Record<string, unknown>[]> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const rows = (await parquetReadObjects({ file, rowEnd: limit, compressors })) as Record<string, unknown>[];
  return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? Number(v) : v])));
}
