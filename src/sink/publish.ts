import { crashPoint } from '../shared/crash-points.js';
import { toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { AlreadyPublishedError, PublicationRefusedError } from '../step/errors.js';
import type { RunTarget } from '../step/ports.js';
import { manifestKeyOf, pendingManifestKeyOf, SUCCESS_NAME, type Manifest } from './manifest.js';
import type { ObjectStore, PutOptions } from './object-store.js';

export interface PublishOptions {
  readonly signal?: AbortSignal;
  /** The run's commit point (see `OpenOptions.claim`): between the pending manifest and the manifest. */
  readonly claim?: () => Promise<void>;
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
 * the Spark commit). With a commit point (`claim`): the pending manifest first, then the claim, so that a
 * runner that dies or stalls after its claim is finished by the next run's settle step (`publishPending`).
 * Then the manifest, conditional so of two runners exactly one publishes, `_SUCCESS`, and the pending
 * manifest removed. A failed `_SUCCESS` or removal is only logged: the next run's settle step redoes both.
 */
export async function publishManifest(store: ObjectStore, target: RunTarget, manifest: Manifest, log: Logger, options: PublishOptions): Promise<void> {
  const tags = tagsOf(target);
  const signal = options.signal ? { signal: options.signal } : {};
  const body = Buffer.from(JSON.stringify(manifest, null, 2), 'utf8');
  const pendingKey = pendingManifestKeyOf(target.folder);
  if (options.claim) {
    await store.put(pendingKey, body, { contentType: 'application/json', tags, ...signal });
    crashPoint('after-pending-manifest');
    await options.claim();
    crashPoint('after-publication-claim');
  }
  const written = await putManifestOnce(store, manifestKeyOf(target.folder), body, { contentType: 'application/json', tags, ...signal }, target.attempt, options.uncertain);
  if (!written) {
    throw new AlreadyPublishedError(`another runner published this run folder first: ${options.discarded} is discarded`, {
      context: { collection: target.collection, correlationId: target.correlationId, folder: target.folder },
    });
  }
  options.onPublished?.();
  crashPoint('after-manifest-put');
  await finishPublished(store, target.folder, tags, log, options.claim !== undefined);
}

/**
 * Calls a run's commit point, telling `keep` while its objects must stay: from the call on, unless the claim
 * was surely refused (a refused claim publishes nothing, so its writer removes its objects). A claim that
 * succeeded, or whose answer was lost, leaves a run that the next settle step finishes from these objects.
 */
export async function keptOnceClaimed(claim: () => Promise<void>, keep: (kept: boolean) => void): Promise<void> {
  keep(true);
  try {
    await claim();
  } catch (e) {
    if (e instanceof PublicationRefusedError) keep(false);
    throw e;
  }
}

/** After the manifest: `_SUCCESS`, and the pending manifest removed (both best effort, both redone by a settle step). */
export async function finishPublished(store: ObjectStore, folder: string, tags: Record<string, string>, log: Logger, pending: boolean): Promise<void> {
  const successKey = `${folder}/${SUCCESS_NAME}`;
  await store.put(successKey, new Uint8Array(0), { contentType: 'application/octet-stream', tags })
    .catch((e: unknown) => log.warn({ err: toError(e), key: successKey }, 'could not write _SUCCESS after the manifest'));
  if (pending) {
    await store.delete([pendingManifestKeyOf(folder)])
      .catch((e: unknown) => log.warn({ err: toError(e), folder }, 'could not remove the pending manifest after the manifest'));
  }
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
    // Not written: another runner's manifest, or ours, written from our pending manifest by a settle step.
    return (await store.putIfAbsent(key, body, options)) || (await manifestAttemptAt(store, key)) === attempt;
  } catch (e) {
    uncertain(true);
    const stored = await store.get(key);
    uncertain(false);
    if (stored === undefined) throw e;
    return attemptOf(stored) === attempt;
  }
}

async function manifestAttemptAt(store: ObjectStore, key: string): Promise<unknown> {
  const stored = await store.get(key);
  return stored === undefined ? undefined : attemptOf(stored);
}

function attemptOf(manifest: Uint8Array): unknown {
  return (JSON.parse(Buffer.from(manifest).toString('utf8')) as { attempt?: unknown }).attempt;
}
