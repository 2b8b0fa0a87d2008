import protobuf from 'protobufjs';
import { PermanentError } from '../shared/errors.js';
import { HBASE_REST_SCHEMA } from './hbase-rest-schema.js';
import type { CellInput, RegionInfo, RestCell, RestRow, RowInput, ScannerSpec, TableInfo } from './messages.js';

/**
 * The HBase REST protobuf codec: protobufjs over HBase's own message definitions (proto/hbase-rest/, compiled
 * to hbase-rest-schema.ts by `make proto`). Keys, columns and values come out as Buffer views into the
 * response (no copies). Chosen over the hand-written codec it replaced by measurement (BENCHMARKS.md,
 * "Protobuf codec"): as fast on real scanner responses, and the .proto files are the definition.
 */
export type { CellInput, RegionInfo, RestCell, RestRow, RowInput, ScannerSpec, TableInfo } from './messages.js';

// int64 fields as JS numbers (exact to 2^53: epoch milliseconds fit), not a Long object per timestamp. This
// is protobufjs's process-wide setting; nothing else in the product uses protobufjs.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();

const root = protobuf.Root.fromJSON(HBASE_REST_SCHEMA as protobuf.INamespace);
const type = (name: string): protobuf.Type => root.lookupType(`org.apache.hadoop.hbase.rest.protobuf.generated.${name}`);
const CellSetType = type('CellSet');
const ScannerType = type('Scanner');
const TableInfoType = type('TableInfo');

interface DecodedCell { readonly row?: Buffer; readonly column: Buffer; readonly timestamp: number; readonly data: Buffer }
/** A CellSet row as protobufjs decodes it (int64 as numbers, bytes as Buffers). */
export interface DecodedRow { readonly key: Buffer; readonly values: readonly DecodedCell[] }

function decode<T>(message: protobuf.Type, buf: Buffer): T {
  try {
    return message.decode(buf) as unknown as T;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new PermanentError(`malformed protobuf ${message.name} from HBase REST: ${reason}`, { context: { bytes: buf.length } });
  }
}

const bytes = (value: Uint8Array | string): Uint8Array => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
const encode = (message: protobuf.Type, value: object): Buffer => {
  const written = message.encode(message.fromObject(value)).finish();
  return Buffer.from(written.buffer, written.byteOffset, written.byteLength);
};

/** Decodes a CellSet. Keys, columns and values are views into `buf`: keep `buf` unchanged while they live. */
export function decodeCellSet(buf: Buffer): RestRow[] {
  return restRowsOf(decode<{ rows: DecodedRow[] }>(CellSetType, buf).rows);
}

/** protobufjs's decoded CellSet rows as the step's rows (also the reference decoder's, test/support). */
export function restRowsOf(rows: readonly DecodedRow[]): RestRow[] {
  const out: RestRow[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i += 1) {
    const row = rows[i]!;
    const cells: RestCell[] = new Array(row.values.length);
    for (let c = 0; c < cells.length; c += 1) {
      const cell = row.values[c]!;
      // Decoded messages own only the fields that were on the wire; defaults live on the prototype.
      cells[c] = Object.hasOwn(cell, 'row')
        ? { row: cell.row!, column: cell.column, timestamp: cell.timestamp, data: cell.data }
        : { column: cell.column, timestamp: cell.timestamp, data: cell.data };
    }
    out[i] = { key: row.key, cells };
  }
  return out;
}

export function encodeCellSet(rows: readonly RowInput[]): Buffer {
  return encode(CellSetType, {
    rows: rows.map((row) => ({
      key: row.key,
      values: row.cells.map((cell: CellInput) => ({
        ...(cell.row !== undefined ? { row: cell.row } : {}),
        column: bytes(cell.column),
        // Without a timestamp the server stamps the cell with its own clock.
        ...(cell.timestamp !== undefined ? { timestamp: cell.timestamp } : {}),
        data: cell.data,
      })),
    })),
  });
}

export function encodeScanner(spec: ScannerSpec): Buffer {
  return encode(ScannerType, { ...spec, ...(spec.columns !== undefined ? { columns: spec.columns.map(bytes) } : {}) });
}

export function decodeScanner(buf: Buffer): ScannerSpec {
  return ScannerType.toObject(decode<protobuf.Message>(ScannerType, buf), { bytes: Buffer }) as ScannerSpec;
}

interface DecodedRegion { readonly name: string; readonly startKey: Buffer; readonly endKey: Buffer; readonly id: number; readonly location: string }

export function decodeTableInfo(buf: Buffer): TableInfo {
  const info = decode<{ name: string; regions: DecodedRegion[] }>(TableInfoType, buf);
  return {
    name: info.name,
    regions: info.regions.map((r): RegionInfo => ({ name: r.name, startKey: r.startKey, endKey: r.endKey, id: r.id, location: r.location })),
  };
}

export function encodeTableInfo(info: TableInfo): Buffer {
  return encode(TableInfoType, info);
}
