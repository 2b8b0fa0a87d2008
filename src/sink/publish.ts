import { crashPoint } from '../shared/crash-points.js';
import { toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { AlreadyPublishedError } from '../step/errors.js';
import type { RunTarget } from '../step/ports.js';
import { manifestKeyOf, SUCCESS_NAME, type Manifest } from './manifest.js';
import type { ObjectStore, PutOptions } from './object-store.js';

export interface PublishOptions {
  readonly signal?: AbortSignal;
  /** Throws when this runner may no longer write; called just before the manifest. */
  readonly fence?: () => void;
  /** Told while the manifest write's outcome is unknown (the parts it may list must stay meanwhile). */
  readonly uncertain?: (uncertain: boolean) => void;
  /** Called once the manifest is written: from then on the run is published, whatever fails next. */
  readonly onPublished?: () => void;
  /** Names the path in the refusal when another runner published first (e.g. "this commit"). */
  readonly discarded: string;
}

/** The tags every object of a run folder carries (DESIGN.md §3.5). */
export const tagsOf = (target: Pick<RunTarget, 'pii' | 'db' | 'table'>): Record<string, string> =>
  ({ pii: String(target.pii), db: target.db, table: target.table });

/**
 * Publishes a run folder whose parts are all complete (the one path for the single engine's `publish()` and
 * the Spark commit): the manifest, conditional so of two runners exactly one publishes, then `_SUCCESS`. A
 * failed `_SUCCESS` is only logged: a rerun or the next run's settle writes it (`ensureSuccessMarker`).
 */
export async function publishManifest(store: ObjectStore, target: RunTarget, manifest: Manifest, log: Logger, options: PublishOptions): Promise<void> {
  const tags = tagsOf(target);
  const signal = options.signal ? { signal: options.signal } : {};
  options.fence?.();
  const body = Buffer.from(JSON.stringify(manifest, null, 2), 'utf8');
  const written = await putManifestOnce(store, manifestKeyOf(target.folder), body, { contentType: 'application/json', tags, ...signal }, target.attempt, options.uncertain);
  if (!written) {
    throw new AlreadyPublishedError(`another runner published this run folder first: ${options.discarded} is discarded`, {
      context: { collection: target.collection, correlationId: target.correlationId, folder: target.folder },
    });
  }
  options.onPublished?.();
  crashPoint('after-manifest-put');
  const successKey = `${target.folder}/${SUCCESS_NAME}`;
  await store.put(successKey, new Uint8Array(0), { contentType: 'application/octet-stream', tags, ...signal })
    .catch((e: unknown) => log.warn({ err: toError(e), key: successKey }, 'could not write _SUCCESS after the manifest'));
}

/**
 * The conditional manifest write (`If-None-Match: *`): of two runners that reach it for one folder, exactly
 * one publishes. When its answer is lost (a network error after S3 may have stored it), the manifest is read
 * back: ours (`attempt`) means written. While that is unknown `uncertain(true)`: the parts it may list must
 * stay, and if even the read fails, the next run's settle step decides from what is in S3.
 */
export async function putManifestOnce(
  store: ObjectStore, key: string, body: Uint8Array, options: PutOptions, attempt: string, uncertain: (u: boolean) => void = () => undefined,
): Promise<boolean> {
  try {
    return await store.putIfAbsent(key, body, options);
  } catch (e) {
    uncertain(true);
    const stored = await store.get(key);
    uncertain(false);
    if (stored === undefined) throw e;
    return (JSON.parse(Buffer.from(stored).toString('utf8')) as { attempt?: unknown }).attempt === attempt;
  }
}
