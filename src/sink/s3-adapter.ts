import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectsCommand, UploadPartCommand, GetObjectCommand, PutObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command,
  type PutObjectCommandInput, type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { ConfigError, PermanentError, TransientError, toError, type IngestError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { createInlineEncoder, createThreadEncoder } from './encoder-pool.js';
import type { ParquetCompression } from './parquet-encoder-adapter.js';
import type { ObjectStore, PutOptions, StagedObject } from './object-store.js';
import { createRecordSink, type ClosableRecordSink, type SinkSettings } from './record-sink.js';

export interface S3StoreOptions {
  readonly s3: S3Client;
  readonly bucket: string;
  /** SSE-KMS key for every object written; without it the bucket's default encryption applies. */
  readonly kmsKeyId?: string;
  /** Multipart chunk size for objects above it (default 8 MiB; S3's minimum is 5 MiB). */
  readonly multipartPartSize?: number;
  /** Chunks of one object uploaded concurrently (default 4). */
  readonly uploadQueueSize?: number;
}

const DELETE_BATCH = 1000;

function isNotFound(e: unknown): boolean {
  const error = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  return error?.name === 'NoSuchKey' || error?.name === 'NotFound' || error?.$metadata?.httpStatusCode === 404;
}

/** SDK errors become domain errors at this edge: 5xx, throttling and network failures may be retried. */
function s3Error(operation: string, bucket: string, key: string, e: unknown): IngestError {
  const error = toError(e) as Error & { $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const status = error.$metadata?.httpStatusCode;
  const context = { operation, bucket, key, status, errorName: error.name };
  const transient = error.name !== 'AbortError' && (status === undefined || status >= 500 || status === 429 || error.$retryable !== undefined);
  return transient
    ? new TransientError(`S3 ${operation} failed`, { context, cause: e })
    : new PermanentError(`S3 ${operation} failed`, { context, cause: e });
}

/** Tags as the `x-amz-tagging` header wants them: given with the object, so it never exists untagged. */
function taggingHeader(tags: Readonly<Record<string, string>>): string {
  return Object.entries(tags).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/**
 * The body as a stream that fails once the signal is aborted. Why not lib-storage's own `abort()`: it makes
 * `done()` reject at once while requests are still in flight (its cleanup runs unawaited), so a PUT could
 * land after the run deleted its objects. A failing body is an upload failure instead: lib-storage lets the
 * chunks in flight finish, aborts the multipart upload, and only then rejects — nothing is left running.
 */
function abortableBody(bytes: Uint8Array, chunkSize: number, signal: AbortSignal | undefined): Readable {
  let offset = 0;
  return new Readable({
    read() {
      if (signal?.aborted) {
        this.destroy(new Error('upload aborted: the run output was aborted'));
      } else if (offset >= bytes.byteLength) {
        this.push(null);
      } else {
        const end = Math.min(offset + chunkSize, bytes.byteLength);
        this.push(bytes.subarray(offset, end));
        offset = end;
      }
    },
  });
}

export function createS3ObjectStore(options: S3StoreOptions): ObjectStore {
  const { s3, bucket } = options;
  const encryption: Partial<PutObjectCommandInput> = options.kmsKeyId === undefined
    ? {}
    : { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: options.kmsKeyId };

  const partSize = options.multipartPartSize ?? 8 * 1024 * 1024;

  async function put(key: string, body: Uint8Array, put: PutOptions): Promise<void> {
    if (put.signal?.aborted) throw new PermanentError('upload aborted before it started', { context: { bucket, key } });
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: bucket, Key: key, Body: abortableBody(body, partSize, put.signal), ContentType: put.contentType,
        Tagging: taggingHeader(put.tags), ...encryption,
      },
      partSize,
      queueSize: options.uploadQueueSize ?? 4,
      // A failed chunk aborts the multipart upload: it is completed or aborted, never left behind.
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (e) {
      if (put.signal?.aborted) throw new PermanentError('upload aborted', { context: { bucket, key }, cause: e });
      throw s3Error('put', bucket, key, e);
    }
  }

  async function putIfAbsent(key: string, body: Uint8Array, put: PutOptions): Promise<boolean> {
    try {
      await s3.send(new PutObjectCommand({
        Bucket: bucket, Key: key, Body: body, ContentType: put.contentType, Tagging: taggingHeader(put.tags), IfNoneMatch: '*', ...encryption,
      }), { abortSignal: put.signal });
      return true;
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      // 412: the key exists. 409: a concurrent conditional write to the same key is in progress (S3 says retry;
      // the other writer wins or fails, and either way this one did not write).
      if (status === 412 || status === 409) return false;
      throw s3Error('put-if-absent', bucket, key, e);
    }
  }

  async function get(key: string): Promise<Uint8Array | undefined> {
    try {
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return response.Body === undefined ? new Uint8Array(0) : await response.Body.transformToByteArray();
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw s3Error('get', bucket, key, e);
    }
  }

  async function list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }))
        .catch((e: unknown) => { throw s3Error('list', bucket, prefix, e); });
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return keys;
  }

  async function deleteKeys(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH);
      const response = await s3.send(new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      })).catch((e: unknown) => { throw s3Error('delete', bucket, batch[0] ?? '', e); });
      const failed = response.Errors ?? [];
      if (failed.length > 0) {
        throw new TransientError('S3 delete left objects behind', {
          context: { bucket, failed: failed.length, first: failed[0]?.Key, code: failed[0]?.Code },
        });
      }
    }
  }

  async function abortUploads(prefix: string): Promise<number> {
    let aborted = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }))
        .catch((e: unknown) => { throw s3Error('list-uploads', bucket, prefix, e); });
      for (const upload of page.Uploads ?? []) {
        if (upload.Key === undefined || upload.UploadId === undefined) continue;
        await abortOne(upload.Key, upload.UploadId);
        aborted += 1;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
    return aborted;
  }

  async function abortOne(key: string, uploadId: string): Promise<void> {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
      .catch((e: unknown) => { if (!isNotFound(e)) throw s3Error('abort-upload', bucket, key, e); });
  }

  async function stage(key: string, body: Uint8Array, put: PutOptions): Promise<StagedObject> {
    if (put.signal?.aborted) throw new PermanentError('upload aborted before it started', { context: { bucket, key } });
    const created = await s3.send(new CreateMultipartUploadCommand({
      Bucket: bucket, Key: key, ContentType: put.contentType, Tagging: taggingHeader(put.tags), ...encryption,
    })).catch((e: unknown) => { throw s3Error('stage', bucket, key, e); });
    const uploadId = created.UploadId;
    if (uploadId === undefined) throw new TransientError('S3 gave no upload id', { context: { bucket, key } });
    try {
      // Every chunk but the last must be at least 5 MiB: chunks of `partSize`, uploaded in order.
      const parts: { partNumber: number; etag: string }[] = [];
      for (let offset = 0, partNumber = 1; offset < body.byteLength || partNumber === 1; offset += partSize, partNumber += 1) {
        const chunk = body.subarray(offset, Math.min(offset + partSize, body.byteLength));
        const uploaded = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: chunk }), { abortSignal: put.signal });
        if (uploaded.ETag === undefined) throw new TransientError('S3 gave no part ETag', { context: { bucket, key, partNumber } });
        parts.push({ partNumber, etag: uploaded.ETag });
      }
      return { key, uploadId, parts };
    } catch (e) {
      await abortOne(key, uploadId).catch(() => undefined);
      if (put.signal?.aborted) throw new PermanentError('upload aborted', { context: { bucket, key }, cause: e });
      throw e instanceof TransientError ? e : s3Error('stage', bucket, key, e);
    }
  }

  async function commitStaged(object: StagedObject): Promise<void> {
    await s3.send(new CompleteMultipartUploadCommand({
      Bucket: bucket, Key: object.key, UploadId: object.uploadId,
      MultipartUpload: { Parts: object.parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
    })).catch((e: unknown) => { throw s3Error('commit-staged', bucket, object.key, e); });
  }

  async function abortStaged(objects: readonly StagedObject[]): Promise<void> {
    for (const object of objects) await abortOne(object.key, object.uploadId);
  }

  return { bucket, put, putIfAbsent, get, list, delete: deleteKeys, abortUploads, stage, commitStaged, abortStaged };
}

/** The output's Parquet codec unless a sink is built with another one. */
export const DEFAULT_COMPRESSION: ParquetCompression = 'zstd';

export interface S3RecordSinkOptions extends S3StoreOptions, SinkSettings {
  /**
   * Parquet compression. Default zstd (level 1): about half Snappy's bytes on the seeder's
   * and on Mongo-style documents, so half the S3 storage and the bytes Athena scans and bills, for 25–60% more
   * encode CPU (~8 ms per MiB of documents; the encoder thread is shared by all collections); levels 2–3 were
   * no smaller (BENCHMARKS.md, "Parquet compression"; `make bench-compression`). Athena, DuckDB, pyarrow and
   * Spark read ZSTD Parquet; 'none' (uncompressed) is for tests that need large objects.
   */
  readonly compression?: ParquetCompression;
  /** Encoder threads (default 1); 0 encodes on the calling thread. */
  readonly encoderThreads?: number;
  readonly logger?: Logger;
  /**
   * Write without SSE-KMS when no `kmsKeyId` is given. Only the local stack may (moto); anywhere else the
   * bucket's default encryption is not enough (it may be SSE-S3 or off), so the sink refuses to exist.
   */
  readonly allowUnencrypted?: boolean;
}

export function createS3RecordSink(options: S3RecordSinkOptions): ClosableRecordSink {
  // Output is decrypted records: it lands encrypted with our KMS key, or not at all.
  if (options.kmsKeyId === undefined && options.allowUnencrypted !== true) {
    throw new ConfigError(
      `no KMS key for the output in bucket ${options.bucket}: outside the local stack every object is written with SSE-KMS. ` +
        'Fix: set kmsKeyId (--kms-key-id or INGEST_KMS_KEY_ID) to the output key\'s id, ARN or alias',
      { context: { bucket: options.bucket } },
    );
  }
  const compression = options.compression ?? DEFAULT_COMPRESSION;
  const threads = options.encoderThreads ?? 1;
  const encoder = threads === 0 ? createInlineEncoder({ compression }) : createThreadEncoder({ compression, threads });
  return createRecordSink(createS3ObjectStore(options), encoder, options);
}
