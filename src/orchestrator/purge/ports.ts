import type { EmrControl } from '../emr/ports.js';

/**
 * Ports of the metadata purge. EMR is read through the orchestrator's EMR port (only DescribeCluster is
 * needed); the HBase root's objects through `MetadataObjects` (`s3-metadata-adapter.ts`).
 */
export type EmrClusters = Pick<EmrControl, 'describeCluster'>;

/** One object DeleteObjects did not delete, with S3's reason. */
export interface KeyFailure {
  readonly key: string;
  readonly code: string;
  readonly message: string;
}

/** S3's DeleteObjects limit: the purge never sends more keys in one call. */
export const MAX_DELETE_BATCH = 1000;

export interface MetadataObjects {
  /** The bucket of the HBase root. */
  readonly bucket: string;
  /**
   * Keys under the prefix, one page at a time, following every continuation. With a delimiter, only keys
   * with no delimiter after the prefix (the "files" at that level, not what lies under sub-folders).
   */
  listPages(prefix: string, options?: { readonly delimiter?: string }): AsyncIterable<readonly string[]>;
  /** Deletes at most `MAX_DELETE_BATCH` keys; resolves to the keys S3 refused (missing keys are not failures). */
  deleteBatch(keys: readonly string[]): Promise<readonly KeyFailure[]>;
}
