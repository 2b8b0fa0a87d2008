import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { parseManifest, type Manifest } from '../../src/sink/index.js';

/** What readers see: every folder under a prefix that has a manifest, and the rows of its Parquet files. */
export interface PublishedFolder {
  readonly manifest: Manifest;
  readonly rows: Record<string, unknown>[];
}

export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

export async function getObject(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await answer.Body!.transformToByteArray());
}

export async function publishedFolders(s3: S3Client, bucket: string, prefix: string): Promise<PublishedFolder[]> {
  const manifests = (await listKeys(s3, bucket, prefix)).filter((k) => k.endsWith('/manifest.json')).sort();
  return Promise.all(manifests.map(async (key) => {
    const manifest = parseManifest((await getObject(s3, bucket, key)).toString('utf8'), key);
    const rows: Record<string, unknown>[] = [];
    for (const file of manifest.files) {
      const bytes = await getObject(s3, bucket, file.key);
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      rows.push(...(await parquetReadObjects({ file: buffer })) as Record<string, unknown>[]);
    }
    return { manifest, rows };
  }));
}
