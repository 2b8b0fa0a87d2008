import { PermanentError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import type { PublishedRun, RecordSink, RunOutput, RunTarget } from '../step/ports.js';
import type { PartEncoder } from './encoder-pool.js';
import { MANIFEST_NAME, manifestKeyOf, parseManifest, publishedRunOf } from './manifest.js';
import type { ObjectStore } from './object-store.js';
import { S3RunOutput, type RunOutputSettings } from './s3-run-output.js';

export interface SinkSettings {
  /** Rows per Parquet part (default 100 000). */
  readonly partMaxRows?: number;
  /** Uncompressed UTF-8 bytes per part (default 64 MiB). */
  readonly partMaxBytes?: number;
  /** Parts encoding or uploading at once per run output (default 2); `write()` waits beyond that. */
  readonly maxPartsInFlight?: number;
  /** Quarantine lines buffered before they are written out (default 8 MiB). */
  readonly quarantineMaxBytes?: number;
  readonly logger?: Logger;
}

export const SINK_DEFAULTS: RunOutputSettings = {
  partMaxRows: 100_000,
  partMaxBytes: 64 * 1024 * 1024,
  maxPartsInFlight: 2,
  quarantineMaxBytes: 8 * 1024 * 1024,
};

const MAX_PART_BYTES = 512 * 1024 * 1024;

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
  // Encoding needs about twice a part's size in wasm memory, whose ceiling is 4 GiB per encoder thread.
  if (settings.partMaxBytes > MAX_PART_BYTES) {
    throw new PermanentError(`sink setting partMaxBytes must be at most ${MAX_PART_BYTES}`, { context: { partMaxBytes: settings.partMaxBytes } });
  }
  return settings;
}

/** A record sink over any object store: the S3 factory and the unit tests both build on this. */
export function createRecordSink(store: ObjectStore, encoder: PartEncoder, options: SinkSettings = {}): ClosableRecordSink {
  const settings = settingsOf(options);
  const logger = options.logger ?? silentLogger;

  async function open(target: RunTarget): Promise<RunOutput> {
    const prefix = `${target.folder}/`;
    const leftovers = await store.list(prefix);
    if (leftovers.includes(`${prefix}${MANIFEST_NAME}`)) {
      // The caller checks `published()` first: overwriting a published run would change what readers trust.
      throw new PermanentError('run folder is already published', {
        context: { bucket: store.bucket, folder: target.folder, correlationId: target.correlationId },
      });
    }
    // An earlier unpublished attempt of this run may have left parts that this attempt would not overwrite
    // (fewer parts this time); tools that list the folder must only ever see this attempt's objects.
    const uploadsAborted = await store.abortUploads(prefix);
    await store.delete(leftovers);
    if (leftovers.length > 0 || uploadsAborted > 0) {
      logger.warn({ folder: target.folder, deleted: leftovers.length, uploadsAborted }, 'leftovers of an unpublished attempt removed');
    }
    return new S3RunOutput({ store, encoder, target, settings, logger });
  }

  async function published(folder: string): Promise<PublishedRun | undefined> {
    const key = manifestKeyOf(folder);
    const body = await store.get(key);
    if (body === undefined) return undefined;
    return publishedRunOf(parseManifest(Buffer.from(body).toString('utf8'), key));
  }

  return { open, published, close: () => encoder.close() };
}
