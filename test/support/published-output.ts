import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
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
  const manifests = (await listKeys(s3, bucket, prefix)).filter((k) => k.endsWith('/_manifest.json')).sort();
  return Promise.all(manifests.map(async (key) => {
    const manifest = parseManifest((await getObject(s3, bucket, key)).toString('utf8'), key);
    const rows: Record<string, unknown>[] = [];
    for (const file of manifest.files) {
      const bytes = await getObject(s3, bucket, file.key);
      const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      rows.push(...(await parquetReadObjects({ file: buffer, compressors })) as Record<string, unknown>[]);
    }
    return { manifest, rows };
  }));
}

/** The project's Python (Makefile `py`): pyarrow, the outside reader of test/support/read_folder.py. */
export const PROJECT_PYTHON = resolve('.tools/py/bin/python');

/** What pyarrow's dataset discovery reads from one run folder: its data files and the id of every row. */
export async function readFolderWithPyarrow(bucket: string, folder: string): Promise<{ files: string[]; ids: string[] }> {
  const { stdout } = await promisify(execFile)(PROJECT_PYTHON, [resolve('test/support/read_folder.py'), bucket, folder], { env: process.env, maxBuffer: 64 * 1024 * 1024 })
    .catch((e: NodeJS.ErrnoException & { stderr?: string }) => {
      throw new Error(e.code === 'ENOENT' ? `${PROJECT_PYTHON} is missing: run \`make py\` (make test does)` : `read_folder.py failed: ${e.stderr ?? e.message}`);
    });
  return JSON.parse(stdout) as { files: string[]; ids: string[] };
}
