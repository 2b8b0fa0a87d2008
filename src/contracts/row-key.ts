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
  const keys = Object.keys(source);
  // Keys already in order (as the ingest pipeline writes them): the object serialises as the sorted copy would.
  if (isSorted(keys)) return JSON.stringify(source);
  const sorted: Record<string, unknown> = {};
  for (const key of keys.sort()) sorted[key] = source[key];
  return JSON.stringify(sorted);
}

function isSorted(keys: readonly string[]): boolean {
  for (let k = 1; k < keys.length; k += 1) if (keys[k - 1]! > keys[k]!) return false;
  return true;
}

/** CRC-32 (IEEE 802.3, as zlib's) byte by byte from a table: for a row key's few dozen bytes, cheaper than a native call. */
const CRC_TABLE = new Int32Array(256);
for (let n = 0; n < 256; n += 1) {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c;
}
const NATIVE_CRC_FROM = 256;

/** CRC-32 of bytes[start, end). */
export function crc32Of(bytes: Uint8Array, start: number, end: number): number {
  if (end - start >= NATIVE_CRC_FROM) return crc32(bytes.subarray(start, end));
  let c = -1;
  for (let i = start; i < end; i += 1) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
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
  const prefix = ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> 0;
  const idJson = Buffer.isBuffer(key) ? key.toString('utf8', 4) : Buffer.from(key.buffer, key.byteOffset + 4, key.length - 4).toString('utf8');
  return { idJson, checksumValid: prefix === crc32Of(key, 4, key.length) };
}

/** Printable form of a row key for logs, quarantine and the `row_key` column: hex CRC + `idJson`. */
export function printableRowKey(key: Uint8Array): string {
  const { idJson } = decodeRowKey(key);
  return `${Buffer.from(key.buffer, key.byteOffset, Math.min(4, key.length)).toString('hex')}${idJson}`;
}
