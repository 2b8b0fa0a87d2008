import { InvalidClusterIdError } from './errors.js';

/** The primary HBase's root dir on S3, `s3://bucket/prefix` (the prefix may be empty). */
export interface HBaseRoot {
  readonly bucket: string;
  /** Without leading or trailing `/`; empty for the bucket's top. */
  readonly prefix: string;
}

export function parseHBaseRoot(uri: string): HBaseRoot {
  const m = /^s3a?:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri.trim());
  if (m === null) throw new Error('must be an s3:// URI such as s3://bucket/hbase');
  return { bucket: m[1] as string, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

const CLUSTER_ID = /^j-[0-9A-Z]{1,64}$/;

export function checkClusterId(clusterId: string): string {
  if (!CLUSTER_ID.test(clusterId)) {
    throw new InvalidClusterIdError(`${JSON.stringify(clusterId)} is not an EMR cluster id. Fix: pass the id as EMR shows it, e.g. j-2AXXXXXXGAPLF.`, { context: { clusterId } });
  }
  return clusterId;
}

/**
 * The replica's metadata folder (DESIGN.md §3.6) as an object key without a trailing `/`:
 * `<prefix>/data/hbase/meta_<clusterId>`. Its contents are the keys under `<this>/`; never list by this
 * bare string, which also matches `meta_<clusterId>0…` of other clusters.
 */
export function metaFolder(root: HBaseRoot, clusterId: string): string {
  return `${root.prefix === '' ? '' : `${root.prefix}/`}data/hbase/meta_${checkClusterId(clusterId)}`;
}

/** Objects that stand for the folder itself: a bare key, and the EMRFS/Hadoop folder marker. */
export const folderMarkers = (folder: string): readonly string[] => [folder, `${folder}_$folder$`];
