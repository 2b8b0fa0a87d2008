/**
 * The HBase REST protobuf messages we use (hbase-rest/src/main/protobuf, proto2), as plain data:
 *
 *   Scanner   { bytes startRow=1; bytes endRow=2; repeated bytes columns=3; int32 batch=4; int64 startTime=5;
 *               int64 endTime=6; int32 maxVersions=7; string filter=8; int32 caching=9;
 *               repeated string labels=10; bool cacheBlocks=11 }
 *   CellSet   { repeated Row rows=1 }   Row { bytes key=1; repeated Cell values=2 }
 *   Cell      { bytes row=1; bytes column=2; int64 timestamp=3; bytes data=4 }
 *   TableInfo { string name=1; repeated Region regions=2 }
 *   Region    { string name=1; bytes startKey=2; bytes endKey=3; int64 id=4; string location=5 }
 *
 * int64 values are JS numbers: exact up to 2^53 (epoch milliseconds fit with room to spare); beyond that,
 * e.g. HBase's LATEST_TIMESTAMP (2^63 − 1), they are rounded.
 */

export interface ScannerSpec {
  readonly startRow?: Uint8Array;
  readonly endRow?: Uint8Array;
  readonly columns?: readonly (Uint8Array | string)[];
  /** Cells (not rows) per scanner response. */
  readonly batch?: number;
  readonly startTime?: number;
  readonly endTime?: number;
  readonly maxVersions?: number;
  readonly filter?: string;
  readonly caching?: number;
  readonly labels?: readonly string[];
  readonly cacheBlocks?: boolean;
}

export interface RestCell {
  /** Unset by the server inside a CellSet (the row carries the key). */
  readonly row?: Buffer;
  /** `family:qualifier`. */
  readonly column: Buffer;
  /** Epoch ms; 0 when absent (the proto2 default). */
  readonly timestamp: number;
  readonly data: Buffer;
}

export interface RestRow {
  readonly key: Buffer;
  readonly cells: RestCell[];
}

export interface RegionInfo {
  readonly name: string;
  readonly startKey: Buffer;
  readonly endKey: Buffer;
  readonly id: number;
  readonly location: string;
}

export interface TableInfo {
  readonly name: string;
  readonly regions: RegionInfo[];
}

/** A cell to write. Without a timestamp the server stamps it with its own clock. */
export interface CellInput {
  readonly row?: Uint8Array;
  readonly column: Uint8Array | string;
  readonly timestamp?: number;
  readonly data: Uint8Array;
}

export interface RowInput {
  readonly key: Uint8Array;
  readonly cells: readonly CellInput[];
}
