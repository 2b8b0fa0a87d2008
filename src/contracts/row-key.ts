import { crc32 } from 'node:zlib';

/**
 * Row keys as the ingest pipeline writes them (DESIGN.md §3.1): a 4-byte big-endian CRC32 of `idJson`,
 * then the UTF-8 bytes of `idJson` — the record's `_id` with top-level keys sorted, serialised compactly.
 */

/** `_id` → `idJson`. A string or number `_id` becomes `{"id":"<value>"}`. */
export function idJsonOf(id: unknown): string {
  if (typeof id === 'string' || typeof id === 'number') return JSON.stringify({ id: String(id) });
  if (id === null || typeof id !== 'object' || Array.isArray(id)) {
    throw new TypeError(`_id must be an object, a string or a number, got ${Array.isArray(id) ? 'array' : typeof id}`);
  }
  const source = id as Record<string, unknown>;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(source).sort()) sorted[key] = source[key];
  return JSON.stringify(sorted);
}

export function rowKeyOf(idJson: string): Buffer {
  const body = Buffer.from(idJson, 'utf8');
  const key = Buffer.allocUnsafe(4 + body.length);
  key.writeUInt32BE(crc32(body), 0);
  body.copy(key, 4);
  return key;
}

export interface DecodedRowKey {
  readonly idJson: string;
  /** Whether the 4-byte prefix is the CRC32 of the rest, as the ingest pipeline writes it. */
  readonly checksumValid: boolean;
}

export function decodeRowKey(key: Uint8Array): DecodedRowKey {
  if (key.length < 4) return { idJson: '', checksumValid: false };
  const body = Buffer.from(key.buffer, key.byteOffset + 4, key.length - 4);
  const prefix = Buffer.from(key.buffer, key.byteOffset, 4).readUInt32BE(0);
  return { idJson: body.toString('utf8'), checksumValid: prefix === crc32(body) };
}

/** Printable form of a row key for logs, quarantine and the `row_key` column: hex CRC + `idJson`. */
export function printableRowKey(key: Uint8Array): string {
  const { idJson } = decodeRowKey(key);
  return `${Buffer.from(key.buffer, key.byteOffset, Math.min(4, key.length)).toString('hex')}${idJson}`;
}
