/**
 * The HBase REST protobuf codec: hand-written (no protobuf library), decoding zero-copy. Messages and field
 * numbers are listed in messages.ts.
 */
export type { CellInput, RegionInfo, RestCell, RestRow, RowInput, ScannerSpec, TableInfo } from './messages.js';
export { decodeCellSet, decodeScanner, decodeTableInfo } from './protobuf-decode.js';
export { encodeCellSet, encodeScanner, encodeTableInfo } from './protobuf-encode.js';
