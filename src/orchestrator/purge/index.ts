/** Public surface of the metadata purge (DESIGN.md §3.6). The S3 adapter is imported from its own file. */
export { purgeClusterMetadata, type PurgePorts, type PurgeRequest, type PurgeResult, type PurgeSettings } from './purge-metadata.js';
export { MAX_DELETE_BATCH, type EmrClusters, type KeyFailure, type MetadataObjects } from './ports.js';
export { checkClusterId, metaFolder, parseHBaseRoot, type HBaseRoot } from './hbase-root.js';
export { notOursReason, type Ownership } from './ownership.js';
export { eventActions, type ClusterStateChange, type EventAction } from './cluster-events.js';
export { ClusterStillRunningError, HBaseRootMissingError, InvalidClusterIdError, MetadataPurgeIncompleteError } from './errors.js';
