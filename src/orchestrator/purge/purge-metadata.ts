import { silentLogger, type Logger } from '../../shared/logger.js';
import { TERMINATED_CLUSTER_STATES } from '../emr/ports.js';
import { ClusterStillRunningError } from './errors.js';
import { checkClusterId, folderMarkers, metaFolder, type HBaseRoot } from './hbase-root.js';
import { notOursReason, type Ownership } from './ownership.js';
import { MAX_DELETE_BATCH, type EmrClusters, type KeyFailure, type MetadataObjects } from './ports.js';

export interface PurgeSettings {
  readonly root: HBaseRoot;
  readonly ownership: Ownership;
  /** Keys per DeleteObjects call, at most 1000 (the default). */
  readonly batchSize?: number;
}

export interface PurgePorts {
  readonly clusters: EmrClusters;
  readonly objects: MetadataObjects;
  readonly logger?: Logger;
}

export interface PurgeRequest {
  readonly clusterId: string;
  /** List what would be deleted, delete nothing. */
  readonly dryRun?: boolean;
}

export type PurgeResult =
  | { readonly outcome: 'ignored'; readonly clusterId: string; readonly reason: string }
  | {
      readonly outcome: 'purged';
      readonly clusterId: string;
      readonly clusterName: string;
      readonly state: string;
      readonly bucket: string;
      /** The folder purged, `…/data/hbase/meta_<id>/`. */
      readonly folder: string;
      /** Objects deleted (in a dry run: that would be deleted). */
      readonly deleted: number;
      readonly deleteCalls: number;
      /** The first few keys, for the operator's eye. */
      readonly sample: readonly string[];
      /** Objects S3 refused to delete, with its reasons. */
      readonly failures: readonly KeyFailure[];
      readonly dryRun: boolean;
    };

const SAMPLE = 5;

/** The keys of a replica's metadata folder, page by page: everything under `<folder>/`, then its markers. */
async function* folderKeys(objects: MetadataObjects, folder: string): AsyncGenerator<string> {
  for await (const page of objects.listPages(`${folder}/`)) yield* page;
  // Listing the bare name with a delimiter returns only keys at that level: `meta_j-1` and
  // `meta_j-1_$folder$`, but also `meta_j-10_$folder$` — hence the exact match.
  const markers = folderMarkers(folder);
  for await (const page of objects.listPages(folder, { delimiter: '/' })) yield* page.filter((k) => markers.includes(k));
}

/**
 * Deletes the metadata folder a terminated replica of ours left in the primary's HBase root (DESIGN.md §3.6).
 * A cluster that is not ours, or that EMR does not know, is ignored with the reason; one that still runs is
 * refused (its replica still uses the folder). Listing is paginated and deletes go in batches of at most
 * 1000; per-key failures are collected and returned, not thrown. Idempotent: a second run deletes nothing.
 */
export async function purgeClusterMetadata(request: PurgeRequest, ports: PurgePorts, settings: PurgeSettings): Promise<PurgeResult> {
  const clusterId = checkClusterId(request.clusterId);
  const logger = (ports.logger ?? silentLogger).child({ clusterId });
  const batchSize = Math.min(settings.batchSize ?? MAX_DELETE_BATCH, MAX_DELETE_BATCH);
  if (ports.objects.bucket !== settings.root.bucket) throw new Error(`the object store is bound to ${ports.objects.bucket}, not the HBase root's bucket ${settings.root.bucket}`);

  const cluster = await ports.clusters.describeCluster(clusterId);
  if (cluster === undefined) {
    const reason = `EMR does not know cluster ${clusterId}: it cannot be checked as ours, so nothing is deleted`;
    logger.warn({ reason }, 'metadata purge ignored');
    return { outcome: 'ignored', clusterId, reason };
  }
  const foreign = notOursReason(cluster, settings.ownership);
  if (foreign !== undefined) {
    logger.info({ reason: foreign, clusterName: cluster.name }, 'metadata purge ignored');
    return { outcome: 'ignored', clusterId, reason: foreign };
  }
  if (!TERMINATED_CLUSTER_STATES.includes(cluster.state)) {
    throw new ClusterStillRunningError(
      `cluster ${clusterId} is ${cluster.state}: its replica still uses its metadata folder, so nothing is deleted. ` +
        'Purge once it is TERMINATED (the cluster state change event does this by itself).',
      { context: { clusterId, state: cluster.state } },
    );
  }

  const folder = metaFolder(settings.root, clusterId);
  const failures: KeyFailure[] = [];
  const sample: string[] = [];
  let deleted = 0;
  let deleteCalls = 0;
  let batch: string[] = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const keys = batch;
    batch = [];
    if (request.dryRun === true) {
      deleted += keys.length;
      return;
    }
    const refused = await ports.objects.deleteBatch(keys);
    deleteCalls += 1;
    failures.push(...refused);
    deleted += keys.length - refused.length;
  };
  // Deleting while listing is safe: a continuation resumes after the last key listed, whatever was deleted.
  for await (const key of folderKeys(ports.objects, folder)) {
    if (sample.length < SAMPLE) sample.push(key);
    batch.push(key);
    if (batch.length >= batchSize) await flush();
  }
  await flush();

  const result = {
    outcome: 'purged', clusterId, clusterName: cluster.name, state: cluster.state, bucket: ports.objects.bucket,
    folder: `${folder}/`, deleted, deleteCalls, sample, failures, dryRun: request.dryRun === true,
  } as const;
  const summary = { clusterName: cluster.name, state: cluster.state, bucket: result.bucket, folder: result.folder, deleted, deleteCalls, failed: failures.length, dryRun: result.dryRun };
  if (failures.length > 0) logger.error({ ...summary, firstFailure: failures[0] }, 'metadata purge left objects behind');
  else logger.info(summary, 'metadata purged');
  return result;
}
