import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { PermanentError, TransientError, toError, type IngestError } from '../../shared/errors.js';
import { HBaseRootMissingError } from './errors.js';
import { MAX_DELETE_BATCH, type KeyFailure, type MetadataObjects } from './ports.js';

export interface S3MetadataOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** Keys per list page (S3's maximum and default is 1000); tests make it small to exercise pagination. */
  readonly pageSize?: number;
}

/** SDK errors become domain errors here: a missing bucket is a configuration error; 5xx and throttling may be retried. */
function s3Error(operation: string, bucket: string, prefix: string, e: unknown): IngestError {
  const error = toError(e) as Error & { $metadata?: { httpStatusCode?: number } };
  const context = { operation, bucket, prefix, status: error.$metadata?.httpStatusCode, errorName: error.name };
  if (error.name === 'NoSuchBucket') {
    return new HBaseRootMissingError(`bucket ${bucket} of the HBase root does not exist. Fix: set INGEST_HBASE_ROOT_DIR (or --hbase-root-dir) to the primary's s3://bucket/prefix.`, { context, cause: e });
  }
  const status = context.status;
  return status === undefined || status >= 500 || status === 429
    ? new TransientError(`S3 ${operation} failed`, { context, cause: e })
    : new PermanentError(`S3 ${operation} failed`, { context, cause: e });
}

/** The HBase root's objects through S3: paginated listing and DeleteObjects with per-key results. */
export function createS3MetadataObjects(options: S3MetadataOptions): MetadataObjects {
  const { s3, bucket } = options;

  async function* listPages(prefix: string, list: { readonly delimiter?: string } = {}): AsyncGenerator<readonly string[]> {
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({
        Bucket: bucket, Prefix: prefix, Delimiter: list.delimiter, ContinuationToken: token, MaxKeys: options.pageSize,
      })).catch((e: unknown) => { throw s3Error('list', bucket, prefix, e); });
      yield (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [o.Key]));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async function deleteBatch(keys: readonly string[]): Promise<readonly KeyFailure[]> {
    if (keys.length === 0) return [];
    if (keys.length > MAX_DELETE_BATCH) throw new Error(`DeleteObjects takes at most ${MAX_DELETE_BATCH} keys, not ${keys.length}`);
    // Quiet: S3 answers with the failures only.
    const answer = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }))
      .catch((e: unknown) => { throw s3Error('delete', bucket, keys[0] ?? '', e); });
    return (answer.Errors ?? []).map((f) => ({ key: f.Key ?? '', code: f.Code ?? 'Unknown', message: f.Message ?? '' }));
  }

  return { bucket, listPages, deleteBatch };
}
