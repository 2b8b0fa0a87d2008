/** The step's output side: Parquet parts in S3, a manifest, `_SUCCESS`, and quarantine objects. */
export { createS3RecordSink, createS3ObjectStore, type S3RecordSinkOptions, type S3StoreOptions } from './s3-adapter.js';
export { createRecordSink, SINK_DEFAULTS, type ClosableRecordSink, type SinkSettings } from './record-sink.js';
export { MANIFEST_NAME, SUCCESS_NAME, OUTPUT_COLUMNS, parseManifest, type Manifest } from './manifest.js';
export type { ObjectStore, PutOptions } from './object-store.js';
export type { ParquetCompression } from './parquet-encoder-adapter.js';
