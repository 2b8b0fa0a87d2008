/**
 * What the sink needs from an object store. The S3 adapter implements it; unit tests use an in-memory one.
 * Keys are full object keys inside the store's bucket.
 */
export interface PutOptions {
  readonly contentType: string;
  /** Object tags, applied atomically with the object (never a window where it exists untagged). */
  readonly tags: Readonly<Record<string, string>>;
  /** Aborting stops the upload; a multipart upload is aborted, never left behind or completed. */
  readonly signal?: AbortSignal;
}

/**
 * An object written but not yet visible: a multipart upload whose parts are all uploaded and which is not
 * completed. No listing shows it; completing it makes it an object at `key`, aborting it leaves nothing. A
 * Spark task's outputs are staged, and only the step commits the winners' (DESIGN.md §3.8).
 */
export interface StagedObject {
  readonly key: string;
  readonly uploadId: string;
  readonly parts: readonly { readonly partNumber: number; readonly etag: string }[];
}

export interface ObjectStore {
  readonly bucket: string;
  put(key: string, body: Uint8Array, options: PutOptions): Promise<void>;
  /**
   * Writes a small object only if the key does not exist yet (`If-None-Match: *`): false when it did. The
   * manifest's write, so that of two runners of one folder exactly one publishes.
   */
  putIfAbsent(key: string, body: Uint8Array, options: PutOptions): Promise<boolean>;
  /** The object's bytes, or undefined when there is no such key. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Every key under the prefix (all pages). */
  list(prefix: string): Promise<string[]>;
  /** Deletes the keys (missing keys are fine), in batches the store accepts. */
  delete(keys: readonly string[]): Promise<void>;
  /** Uploads the body as an uncompleted multipart upload (aborted again if any of it fails). */
  stage(key: string, body: Uint8Array, options: PutOptions): Promise<StagedObject>;
  /** Completes a staged object: from now on it is listed and readable. */
  commitStaged(object: StagedObject): Promise<void>;
  /** Aborts these staged objects (missing ones are fine). */
  abortStaged(objects: readonly StagedObject[]): Promise<void>;
  /** Aborts every unfinished multipart upload under the prefix; returns how many. */
  abortUploads(prefix: string): Promise<number>;
}
