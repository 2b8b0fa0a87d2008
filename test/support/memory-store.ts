import { createHash } from 'node:crypto';
import type { ObjectStore, PutOptions, StagedObject } from '../../src/sink/object-store.js';

export interface Stored {
  readonly body: Uint8Array;
  readonly options: PutOptions;
}

/** An uncompleted multipart upload: all its parts uploaded, not completed, not aborted. */
export interface Upload {
  readonly key: string;
  readonly uploadId: string;
  readonly body: Uint8Array;
  readonly options: PutOptions;
  readonly etag: string;
}

/**
 * An object store in memory that models S3 multipart uploads: a staged object is an uncompleted upload,
 * which `list()` does not show and `get()` does not read until `commitStaged`; aborting it leaves nothing.
 * `gate` can hold or fail a put or a stage, the way a slow or failing S3 would.
 */
export class MemoryStore implements ObjectStore {
  readonly bucket = 'memory';
  readonly objects = new Map<string, Stored>();
  /** Uncompleted multipart uploads by upload id. */
  readonly uploads = new Map<string, Upload>();
  readonly events: string[] = [];
  gate: ((key: string, signal?: AbortSignal) => Promise<void>) | undefined;
  private nextUpload = 1;

  async put(key: string, body: Uint8Array, options: PutOptions): Promise<void> {
    this.events.push(`start ${key}`);
    await this.gate?.(key, options.signal);
    if (options.signal?.aborted) throw new Error('aborted');
    this.objects.set(key, { body: Uint8Array.from(body), options });
    this.events.push(`done ${key}`);
  }

  async putIfAbsent(key: string, body: Uint8Array, options: PutOptions): Promise<boolean> {
    if (this.objects.has(key)) return false;
    await this.put(key, body, options);
    return true;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.objects.get(key)?.body;
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      this.objects.delete(key);
      this.events.push(`delete ${key}`);
    }
  }

  async stage(key: string, body: Uint8Array, options: PutOptions): Promise<StagedObject> {
    this.events.push(`stage ${key}`);
    await this.gate?.(key, options.signal);
    if (options.signal?.aborted) throw new Error('aborted');
    const uploadId = `upload-${this.nextUpload++}`;
    const etag = createHash('md5').update(body).digest('hex');
    this.uploads.set(uploadId, { key, uploadId, body: Uint8Array.from(body), options, etag });
    this.events.push(`staged ${key}`);
    return { key, uploadId, parts: [{ partNumber: 1, etag: `"${etag}"` }] };
  }

  /** As S3's CompleteMultipartUpload: NoSuchUpload when the upload was aborted or completed already. */
  async commitStaged(object: StagedObject): Promise<void> {
    const upload = this.uploads.get(object.uploadId);
    if (upload === undefined || upload.key !== object.key) throw new Error(`NoSuchUpload: ${object.key} (${object.uploadId})`);
    if (object.parts.length !== 1 || object.parts[0]!.etag !== `"${upload.etag}"`) throw new Error(`InvalidPart: ${object.key}`);
    this.uploads.delete(object.uploadId);
    this.objects.set(object.key, { body: upload.body, options: upload.options });
    this.events.push(`commit ${object.key}`);
  }

  async abortStaged(objects: readonly StagedObject[]): Promise<void> {
    for (const object of objects) {
      if (this.uploads.get(object.uploadId)?.key === object.key) {
        this.uploads.delete(object.uploadId);
        this.events.push(`abort ${object.key}`);
      }
    }
  }

  async abortUploads(prefix: string): Promise<number> {
    const under = [...this.uploads.values()].filter((u) => u.key.startsWith(prefix));
    for (const upload of under) this.uploads.delete(upload.uploadId);
    return under.length;
  }

  /** Keys of the uncompleted uploads under the prefix, sorted. */
  uploadKeys(prefix = ''): string[] {
    return [...this.uploads.values()].map((u) => u.key).filter((k) => k.startsWith(prefix)).sort();
  }

  text(key: string): string {
    return Buffer.from(this.objects.get(key)!.body).toString('utf8');
  }
}
