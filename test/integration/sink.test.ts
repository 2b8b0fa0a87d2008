import { createHash, randomBytes } from 'node:crypto';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand, DeleteBucketCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand,
  ListMultipartUploadsCommand, S3Client,
} from '@aws-sdk/client-s3';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/sink/manifest.js';
import { createS3ObjectStore, createS3RecordSink } from '../../src/sink/s3-adapter.js';
import type { OutputRow, RunTarget } from '../../src/step/ports.js';

const aws = { endpoint: process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566', region: 'eu-west-2', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const bucket = `sink-it-${randomBytes(4).toString('hex')}`;
const s3 = new S3Client({ ...aws, forcePathStyle: true });
const store = createS3ObjectStore({ s3, bucket });
let kmsKeyId = '';

const hex = (text: string): string => createHash('sha256').update(text).digest('hex');
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Small rows with an incompressible blob, so a 100k-row part is several multipart chunks. */
const rowsOf = (count: number): OutputRow[] => Array.from({ length: count }, (_, i) => ({
  id: `{"declarationId":"d-${i}"}`,
  timestamp: Date.UTC(2020, 7, 5) + i * 37,
  record: `{"_id":{"declarationId":"d-${i}"},"n":${i},"blob":"${hex(`a${i}`)}${hex(`b${i}`)}","note":"Zoë ✓ ${i}"}`,
  db: 'core', collection: 'addresses', rowKey: `\\x1F\\x2Ed-${i}`, recordType: i % 3 === 0 ? 'MONGO_INSERT' : 'MONGO_UPDATE',
}));

const targetFor = (folder: string): RunTarget => ({
  collection: 'core:addresses', db: 'core', table: 'addresses', pii: true, correlationId: `it-${folder}`, attempt: 'a1',
  triggeredTime: Date.UTC(2020, 7, 5, 7, 7), window: { start: Date.UTC(2020, 7, 5), end: Date.UTC(2020, 7, 6) }, folder,
});

async function getBytes(key: string): Promise<Uint8Array> {
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return response.Body!.transformToByteArray();
}

/** These rows compress to one 5 MiB chunk under ZSTD: uncompressed parts stay multipart, which these tests are about. */
const UNCOMPRESSED_FOR_MULTIPART = { compression: 'none' } as const;

async function write(output: Awaited<ReturnType<ReturnType<typeof createS3RecordSink>['open']>>, rows: readonly OutputRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += 1000) await output.write(rows.slice(start, start + 1000));
}

beforeAll(async () => {
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'eu-west-2' } }));
  const key = await new KMSClient(aws).send(new CreateKeyCommand({ Description: `sink integration ${bucket}` }));
  kmsKeyId = key.KeyMetadata!.KeyId!;
});

afterAll(async () => {
  await store.abortUploads('');
  await store.delete(await store.list(''));
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
});

describe('S3 record sink on moto', () => {
  it('publishes 250k rows as verified Parquet parts, then the manifest and _SUCCESS, tagged and SSE-KMS encrypted', async () => {
    // Parts cut by rows here (the default byte cap, 16 MiB, would cut these rows first).
    const sink = createS3RecordSink({ s3, bucket, kmsKeyId, partMaxRows: 100_000, partMaxBytes: 64 * 1024 * 1024, multipartPartSize: 5 * 1024 * 1024 });
    const folder = 'incremental/core_addresses/20200805-0707';
    const rows = rowsOf(250_000);
    const output = await sink.open(targetFor(folder));
    await write(output, rows);
    const run = await output.publish({ maxTimestamp: rows.at(-1)!.timestamp });
    await sink.close();

    expect((await store.list(`${folder}/`)).sort()).toEqual([
      `${folder}/_SUCCESS`, `${folder}/_manifest.json`,
      `${folder}/part-a1-00001.parquet`, `${folder}/part-a1-00002.parquet`, `${folder}/part-a1-00003.parquet`,
    ]);
    const manifest = parseManifest(Buffer.from(await getBytes(`${folder}/_manifest.json`)).toString('utf8'), 'manifest');
    expect(manifest).toMatchObject({
      rows: 250_000, correlationId: `it-${folder}`, collection: 'core:addresses', maxTimestamp: rows.at(-1)!.timestamp,
      window: targetFor(folder).window, quarantined: 0, files: run.files,
    });
    expect(manifest.files.map((f) => f.rows)).toEqual([100_000, 100_000, 50_000]);

    let offset = 0;
    for (const file of manifest.files) {
      const bytes = await getBytes(file.key);
      expect([bytes.byteLength, sha256(bytes)]).toEqual([file.bytes, file.sha256]);
      expect(Number(parquetMetadata(bytes.slice().buffer).num_rows)).toBe(file.rows);
      const read = await parquetReadObjects({ file: bytes.slice().buffer, utf8: true, compressors });
      for (const [i, r] of read.entries()) {
        const expected = rows[offset + i]!;
        if (r.record !== expected.record || (r.timestamp as Date).getTime() !== expected.timestamp || r.id !== expected.id || r.row_key !== expected.rowKey || r.record_type !== expected.recordType) {
          expect({ index: offset + i, row: r }).toEqual({ index: offset + i, row: expected });
        }
      }
      offset += read.length;
    }
    expect(offset).toBe(rows.length);

    const first = `${folder}/part-a1-00001.parquet`;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: first }));
    expect(head.ETag).toMatch(/-\d+"?$/); // a multipart object's ETag ends with its chunk count
    for (const key of [first, `${folder}/_manifest.json`]) {
      const described = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect(described.ServerSideEncryption).toBe('aws:kms');
      expect(described.SSEKMSKeyId).toContain(kmsKeyId);
      const tagging = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
      expect(Object.fromEntries((tagging.TagSet ?? []).map((t) => [t.Key, t.Value]))).toEqual({ pii: 'true', db: 'core', table: 'addresses' });
    }
    expect(await createS3RecordSink({ s3, bucket, kmsKeyId }).published(folder)).toEqual(run);
  });

  it('aborts the multipart upload when a chunk upload fails, and abort() leaves nothing in the folder', async () => {
    const failing = new S3Client({ ...aws, forcePathStyle: true });
    let uploadParts = 0;
    failing.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'UploadPartCommand' && (uploadParts += 1) === 2) {
        throw Object.assign(new Error('injected UploadPart failure'), { name: 'InjectedFailure', $metadata: { httpStatusCode: 400 } });
      }
      return next(args);
    }, { step: 'initialize', name: 'injectUploadPartFailure' });
    const sink = createS3RecordSink({ s3: failing, bucket, kmsKeyId, partMaxRows: 100_000, multipartPartSize: 5 * 1024 * 1024, uploadQueueSize: 1, ...UNCOMPRESSED_FOR_MULTIPART });
    const folder = 'incremental/core_addresses/20200805-0808';
    const output = await sink.open(targetFor(folder));
    const failure = await (async () => {
      await write(output, rowsOf(150_000));
      await output.publish({ maxTimestamp: null });
    })().then(() => undefined, (e: unknown) => e as Error);
    expect(failure).toBeDefined();
    const causes: string[] = [];
    for (let e: unknown = failure; e instanceof Error; e = e.cause) causes.push(e.message);
    expect(causes.join(' <- ')).toMatch(/injected UploadPart failure/);

    await output.abort(failure);
    await sink.close();
    expect(uploadParts).toBeGreaterThanOrEqual(2);
    const pending = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${folder}/` }));
    expect(pending.Uploads ?? []).toEqual([]);
    expect(await store.list(`${folder}/`)).toEqual([]);
    expect(await createS3RecordSink({ s3, bucket, kmsKeyId }).published(folder)).toBeUndefined();
  });

  it('abort() during uploads stops them and leaves no object or multipart upload behind, even later', async () => {
    const slow = new S3Client({ ...aws, forcePathStyle: true });
    let chunksStarted = 0;
    slow.middlewareStack.add((next, context) => async (args) => {
      if (context.commandName === 'UploadPartCommand') {
        chunksStarted += 1;
        await new Promise((r) => setTimeout(r, 300));
      }
      return next(args);
    }, { step: 'initialize', name: 'slowUploadPart' });
    const sink = createS3RecordSink({ s3: slow, bucket, kmsKeyId, partMaxRows: 100_000, multipartPartSize: 5 * 1024 * 1024, uploadQueueSize: 1, ...UNCOMPRESSED_FOR_MULTIPART });
    const folder = 'incremental/core_addresses/20200805-0909';
    const output = await sink.open(targetFor(folder));
    await write(output, rowsOf(100_000));
    while (chunksStarted === 0) await new Promise((r) => setTimeout(r, 20));
    await output.abort(new Error('step failed elsewhere'));
    await sink.close();
    const chunksAtAbort = chunksStarted;
    const leftovers = async (): Promise<unknown[]> => [
      ...(await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: `${folder}/` }))).Uploads ?? [],
      ...await store.list(`${folder}/`),
    ];
    expect(await leftovers()).toEqual([]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await leftovers()).toEqual([]);
    expect(chunksStarted).toBe(chunksAtAbort);
  });
});
