import pLimit from 'p-limit';
import { crashPoint } from '../shared/crash-points.js';
import { PermanentError } from '../shared/errors.js';
import { AlreadyPublishedError, PublicationRefusedError } from '../step/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import type { CollectionConfig } from '../shared/types.js';
import type { OpenOptions, PublishedRun, RecordSink, RunOutput, RunTarget, SealedTaskOutput, TaskOutput } from '../step/ports.js';
import type { PartEncoder } from './encoder-pool.js';
import { buildManifest, MANIFEST_NAME, manifestKeyOf, parseManifest, pendingManifestKeyOf, publishedRunOf, SUCCESS_NAME } from './manifest.js';
import type { ObjectStore } from './object-store.js';
import { finishPublished, keptOnceClaimed, publishManifest, tagsOf } from './publish.js';
import { S3RunOutput, type RunOutputSettings } from './s3-run-output.js';

export interface SinkSettings {
  /** Rows per Parquet part (default 100 000). */
  readonly partMaxRows?: number;
  /** Uncompressed UTF-8 bytes per part (default 16 MiB). */
  readonly partMaxBytes?: number;
  /** Parts encoding or uploading at once per run output (default 1); `write()` waits beyond that. */
  readonly maxPartsInFlight?: number;
  /** Quarantine lines buffered before they are written out (default 8 MiB). */
  readonly quarantineMaxBytes?: number;
  readonly logger?: Logger;
}

/**
 * Defaults sized for bounded memory (BENCHMARKS.md): a 16 MiB part holds ~7k records of ~2 KB and encodes in
 * ~0.1 s, so one part in flight per run output rarely makes `write()` wait (two: ~2% faster, ~25 MiB more).
 * 64 MiB parts with two in flight took a two-collection run past 800 MiB of RSS, for no measurable speed gain.
 */
export const SINK_DEFAULTS: RunOutputSettings = {
  partMaxRows: 100_000,
  partMaxBytes: 16 * 1024 * 1024,
  maxPartsInFlight: 1,
  quarantineMaxBytes: 8 * 1024 * 1024,
};

const MAX_PART_BYTES = 512 * 1024 * 1024;
/** Staged objects completed at once by a commit. */
const COMMIT_CONCURRENCY = 8;

export interface ClosableRecordSink extends RecordSink {
  /** Stops the encoder threads (idle ones never keep the process alive, so this is optional). */
  close(): Promise<void>;
}

function settingsOf(options: SinkSettings): RunOutputSettings {
  const settings: RunOutputSettings = {
    partMaxRows: options.partMaxRows ?? SINK_DEFAULTS.partMaxRows,
    partMaxBytes: options.partMaxBytes ?? SINK_DEFAULTS.partMaxBytes,
    maxPartsInFlight: options.maxPartsInFlight ?? SINK_DEFAULTS.maxPartsInFlight,
    quarantineMaxBytes: options.quarantineMaxBytes ?? SINK_DEFAULTS.quarantineMaxBytes,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new PermanentError(`sink setting ${name} must be a positive integer`, { context: { [name]: value } });
    }
  }
  // Encoding holds a part, one page and the compressed file at once; pages' lengths are 32-bit in Parquet.
  if (settings.partMaxBytes > MAX_PART_BYTES) {
    throw new PermanentError(`sink setting partMaxBytes must be at most ${MAX_PART_BYTES}`, { context: { partMaxBytes: settings.partMaxBytes } });
  }
  return settings;
}

/** A record sink over any object store: the S3 factory and the unit tests both build on this. */
export function createRecordSink(store: ObjectStore, encoder: PartEncoder, options: SinkSettings = {}): ClosableRecordSink {
  const settings = settingsOf(options);
  const logger = options.logger ?? silentLogger;

  async function open(target: RunTarget, options: OpenOptions = {}): Promise<RunOutput> {
    const prefix = `${target.folder}/`;
    const leftovers = await store.list(prefix);
    if (leftovers.includes(`${prefix}${MANIFEST_NAME}`)) {
      // The caller checks `published()` first: overwriting a published run would change what readers trust.
      throw new PermanentError('run folder is already published', {
        context: { bucket: store.bucket, folder: target.folder, correlationId: target.correlationId },
      });
    }
    // An earlier unpublished attempt of this run may have left parts (its attempt's names, not ours); tools
    // that list the folder must only ever see the publishing attempt's objects. Only the holder of the
    // collection's lease opens a run folder, so no live runner owns these.
    const uploadsAborted = await store.abortUploads(prefix);
    await store.delete(leftovers);
    if (leftovers.length > 0 || uploadsAborted > 0) {
      logger.warn({ folder: target.folder, deleted: leftovers.length, uploadsAborted }, 'leftovers of an unpublished attempt removed');
    }
    return new S3RunOutput({ store, encoder, target, settings, logger, ...(options.fence ? { fence: options.fence } : {}), ...(options.claim ? { claim: options.claim } : {}) });
  }

  async function openTask(target: RunTarget): Promise<TaskOutput> {
    // The step cleaned the folder before the fan-out; other attempts stage beside this one, so nothing is removed.
    return new S3RunOutput({ store, encoder, target, settings, logger, staged: true });
  }

  /**
   * The commit of a Spark run (DESIGN.md §3.8): the winners' staged objects are completed; every other
   * upload and object in the folder (losers, abandoned attempts) is removed, so a reader that lists the folder
   * sees exactly the rows the manifest lists; then the manifest, written once, and `_SUCCESS`.
   */
  async function commit(target: RunTarget, winners: readonly SealedTaskOutput[], summary: { maxTimestamp: number | null }, options: OpenOptions = {}): Promise<PublishedRun> {
    const prefix = `${target.folder}/`;
    const log = logger.child({ correlationId: target.correlationId, collection: target.collection, folder: target.folder });
    const files = winners.flatMap((w) => w.files);
    const quarantineFiles = winners.flatMap((w) => w.quarantineFiles);
    const published = (): AlreadyPublishedError =>
      new AlreadyPublishedError('the run folder was published by another runner meanwhile: this commit is discarded', { context: { folder: target.folder } });
    // Checked first: a published folder must never gain objects its manifest does not list.
    if ((await store.get(manifestKeyOf(target.folder))) !== undefined) throw published();
    const limit = pLimit(COMMIT_CONCURRENCY);
    await Promise.all([...files, ...quarantineFiles].map((staged) => limit(async () => {
      await options.fence?.();
      await store.commitStaged(staged);
    })));
    crashPoint('after-parts-committed');
    const kept = new Set([...files, ...quarantineFiles].map((f) => f.key));
    const uploadsAborted = await store.abortUploads(prefix);
    const strays = (await store.list(prefix)).filter((key) => !kept.has(key));
    if (strays.includes(manifestKeyOf(target.folder))) throw published();
    await store.delete(strays);
    if (strays.length > 0 || uploadsAborted > 0) log.info({ deleted: strays.length, uploadsAborted }, 'losing and abandoned task attempts removed');
    const quarantinedByReason = new Map<string, number>();
    for (const winner of winners) {
      for (const [reason, n] of Object.entries(winner.quarantinedByReason)) quarantinedByReason.set(reason, (quarantinedByReason.get(reason) ?? 0) + n);
    }
    const manifest = buildManifest({
      target,
      maxTimestamp: summary.maxTimestamp,
      files: files.map(({ key, rows, bytes, sha256 }) => ({ key, rows, bytes, sha256 })),
      quarantineFiles: quarantineFiles.map(({ key, records, bytes, sha256 }) => ({ key, records, bytes, sha256 })),
      quarantinedByReason,
      writtenAt: Date.now(),
    });
    crashPoint('before-manifest');
    let claimKept = false;
    const claim = options.claim;
    try {
      await publishManifest(store, target, manifest, log, {
        ...(claim ? { claim: () => keptOnceClaimed(claim, (kept) => { claimKept = kept; }) } : {}), discarded: 'this commit',
      });
    } catch (e) {
      // A refused claim publishes nothing: this commit's objects go (only its own: a settle step owns the folder now).
      if (e instanceof PublicationRefusedError && !claimKept) await store.delete([...kept, pendingManifestKeyOf(target.folder)]);
      throw e;
    }
    log.info({ rows: manifest.rows, parts: files.length, bytesOut: manifest.bytesOut, quarantined: manifest.quarantined, tasks: winners.length }, 'run output published');
    return publishedRunOf(manifest);
  }

  async function published(folder: string): Promise<PublishedRun | undefined> {
    const key = manifestKeyOf(folder);
    const body = await store.get(key);
    if (body === undefined) return undefined;
    return publishedRunOf(parseManifest(Buffer.from(body).toString('utf8'), key));
  }

  async function publishPending(folder: string, collection: CollectionConfig): Promise<PublishedRun | undefined> {
    const pending = await store.get(pendingManifestKeyOf(folder));
    if (pending === undefined) return undefined;
    const tags = tagsOf(collection);
    // Written by its own runner meanwhile, or by us: either way the pending manifest's (same bytes).
    await store.putIfAbsent(manifestKeyOf(folder), pending, { contentType: 'application/json', tags });
    const published = await store.get(manifestKeyOf(folder));
    if (published === undefined) throw new PermanentError('the manifest written from the pending manifest is not there', { context: { bucket: store.bucket, folder } });
    await finishPublished(store, folder, tags, logger, true);
    const run = publishedRunOf(parseManifest(Buffer.from(published).toString('utf8'), manifestKeyOf(folder)));
    logger.warn({ folder, rows: run.rows, attempt: run.attempt }, 'run published from its pending manifest (its runner stopped after claiming its publication)');
    return run;
  }

  async function ensureSuccessMarker(folder: string, collection: CollectionConfig): Promise<void> {
    // A crash between the manifest and the end of `finishPublished` can leave the pending manifest too.
    await store.delete([pendingManifestKeyOf(folder)]);
    const key = `${folder}/${SUCCESS_NAME}`;
    if ((await store.get(key)) !== undefined) return;
    await store.put(key, new Uint8Array(0), { contentType: 'application/octet-stream', tags: tagsOf(collection) });
    logger.warn({ folder }, 'published run lacked its _SUCCESS marker (crash after the manifest); written');
  }

  async function discard(folder: string): Promise<number> {
    const prefix = `${folder}/`;
    const keys = await store.list(prefix);
    if (keys.includes(`${prefix}${MANIFEST_NAME}`)) {
      throw new PermanentError('refusing to discard a published run folder', { context: { bucket: store.bucket, folder } });
    }
    const uploadsAborted = await store.abortUploads(prefix);
    await store.delete(keys);
    if (keys.length > 0 || uploadsAborted > 0) logger.warn({ folder, deleted: keys.length, uploadsAborted }, 'objects of an abandoned, unpublished run removed');
    return keys.length + uploadsAborted;
  }

  return { open, openTask, commit, published, publishPending, ensureSuccessMarker, discard, close: () => encoder.close() };
}
