import pLimit from 'p-limit';
import { crashPoint } from '../shared/crash-points.js';
import { toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { runFolderName } from '../shared/time.js';
import type { CollectionConfig, Window } from '../shared/types.js';
import { runCollection, type CollectionRunPorts } from './collection-run.js';
import { StaleRunnerError } from './errors.js';
import type { KeyServiceStats, StatusRow, StatusStore } from './ports.js';
import { computeWindow } from './window.js';

/**
 * The EMR step in scheduled mode: every collection on its own window, a few at a time. Each collection's
 * status moves EMR_PROCESSING → EMR_COMPLETED | EMR_FAILED with conditional writes, and only after its output
 * is published — so a crash leaves either a published run with a trustworthy watermark, or nothing.
 */
export interface StepPorts extends CollectionRunPorts {
  readonly status: StatusStore;
  /** Key-service counters for one collection (calls, retries, cache hits and misses). */
  keyStats(): KeyServiceStats;
}

export interface StepRunRequest {
  readonly correlationId: string;
  readonly triggeredTime: number;
  readonly endTime: number;
  readonly collections: readonly CollectionConfig[];
  readonly concurrency: number;
  readonly scanConcurrency: number;
  readonly visibilityLagMs: number;
  readonly maxQuarantined: number;
  readonly outputPrefix: string;
  readonly emr?: { readonly clusterId: string; readonly readyTime: number };
  readonly signal?: AbortSignal;
  readonly logger: Logger;
}

export type CollectionOutcome = 'completed' | 'failed' | 'skipped';

export interface CollectionSummary {
  readonly collection: string;
  readonly outcome: CollectionOutcome;
  readonly note?: string;
  readonly window?: Window;
  readonly records: number;
  readonly quarantined: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Records that needed a data key; the cache hit rate is 1 − DKS calls / lookups. */
  readonly keyLookups: number;
  readonly keys: KeyServiceStats;
  readonly durationMs: number;
  readonly folder?: string;
  readonly files?: readonly string[];
  readonly maxTimestamp?: number | null;
}

/** A fresh set of ports per collection, so its key-service counters are its own. */
export type StepPortsFactory = (collection: CollectionConfig) => StepPorts;

export async function runStep(portsFor: StepPortsFactory, request: StepRunRequest): Promise<CollectionSummary[]> {
  const limit = pLimit(request.concurrency);
  return Promise.all(request.collections.map((collection) => limit(async () => {
    const started = Date.now();
    const ports = portsFor(collection);
    try {
      return await runOne(ports, collection, request);
    } catch (caught) {
      // The status store itself failed (e.g. unreachable): report the collection failed, keep the others going.
      const error = toError(caught);
      request.logger.error({ err: error, collection: collection.name }, 'collection failed before or after its run');
      return { collection: collection.name, outcome: 'failed' as const, note: error.message, records: 0, quarantined: 0, bytesIn: 0, bytesOut: 0, keyLookups: 0, keys: ports.keyStats(), durationMs: Date.now() - started };
    }
  })));
}

const RUNNABLE_FROM = [undefined, 'LAMBDA_TRIGGERED', 'WAITING', 'EMR_LAUNCHED', 'EMR_PROCESSING', 'EMR_FAILED'] as const;

async function runOne(ports: StepPorts, collection: CollectionConfig, request: StepRunRequest): Promise<CollectionSummary> {
  const started = Date.now();
  const logger = request.logger.child({ correlationId: request.correlationId, collection: collection.name });
  const folder = `${request.outputPrefix}/${collection.db}_${collection.table}/${runFolderName(request.triggeredTime)}`;
  const base = { collection: collection.name, folder, records: 0, quarantined: 0, bytesIn: 0, bytesOut: 0, keyLookups: 0 };
  const summary = (fields: Partial<CollectionSummary> & { outcome: CollectionOutcome }): CollectionSummary =>
    ({ ...base, keys: ports.keyStats(), durationMs: Date.now() - started, ...fields });
  const row = (fields: Partial<StatusRow> & Pick<StatusRow, 'status'>): StatusRow => ({
    correlationId: request.correlationId,
    collection: collection.name,
    triggeredTime: request.triggeredTime,
    ...(request.emr ? { emrClusterId: request.emr.clusterId, emrReadyTime: request.emr.readyTime } : {}),
    ...fields,
  });

  const existing = await ports.status.get(request.correlationId, collection.name);
  if (existing?.status === 'EMR_COMPLETED') {
    logger.info('collection already completed by this run; nothing to do');
    return summary({ outcome: 'skipped', note: 'already completed' });
  }
  const previouslyPublished = await ports.sink.published(folder);
  if (previouslyPublished && previouslyPublished.correlationId === request.correlationId) {
    // A rerun after a crash between publication and the status update: finish the status, do not re-read.
    await ports.sink.ensureSuccessMarker({
      collection: collection.name, db: collection.db, table: collection.table, pii: collection.pii,
      correlationId: request.correlationId, triggeredTime: request.triggeredTime, window: previouslyPublished.window, folder,
    });
    const end = previouslyPublished.maxTimestamp ?? null;
    const moved = await ports.status.transition(row({ status: 'EMR_COMPLETED', processedDataStart: previouslyPublished.window?.start ?? null, processedDataEnd: end }), RUNNABLE_FROM);
    logger.info({ folder, moved }, 'run was already published; status completed');
    return summary({ outcome: moved ? 'completed' : 'skipped', note: 'already published', records: previouslyPublished.rows, maxTimestamp: end });
  }

  const watermark = await ports.status.lastCompletedEnd(collection.name);
  const window = computeWindow({ watermark, endTime: request.endTime, visibilityLagMs: request.visibilityLagMs });
  const start = window.start;
  if (!(await ports.status.transition(row({ status: 'EMR_PROCESSING', processedDataStart: start }), RUNNABLE_FROM))) {
    const error = new StaleRunnerError('the status row holds a newer state: another runner owns this collection', { context: { collection: collection.name, correlationId: request.correlationId } });
    logger.error({ err: error }, 'collection not started');
    return summary({ outcome: 'failed', note: error.message });
  }
  crashPoint('after-status-processing');
  if (window.empty) {
    await complete(ports, row({ status: 'EMR_COMPLETED', processedDataStart: start, processedDataEnd: null }));
    logger.info({ reason: window.reason }, 'window is empty; completed with nothing to publish');
    return summary({ outcome: 'completed', note: window.reason, maxTimestamp: null });
  }

  try {
    logger.info({ window }, 'collection started');
    const result = await runCollection(ports, {
      collection,
      correlationId: request.correlationId,
      triggeredTime: request.triggeredTime,
      window: { start: window.start, end: window.end },
      folder,
      scanConcurrency: request.scanConcurrency,
      maxQuarantined: request.maxQuarantined,
      ...(request.signal ? { signal: request.signal } : {}),
      logger,
    });
    crashPoint('after-manifest');
    // Invariant: the watermark (ProcessedDataEnd of EMR_COMPLETED) moves only after the manifest is written.
    await complete(ports, row({ status: 'EMR_COMPLETED', processedDataStart: window.start, processedDataEnd: result.maxTimestamp }));
    crashPoint('after-status-completed');
    return summary({
      outcome: 'completed',
      window: { start: window.start, end: window.end },
      records: result.records,
      quarantined: result.quarantined,
      bytesIn: result.bytesIn,
      bytesOut: result.bytesOut,
      keyLookups: result.keyLookups,
      maxTimestamp: result.maxTimestamp,
      files: result.published?.files.map((f) => f.key) ?? [],
    });
  } catch (caught) {
    const error = toError(caught);
    logger.error({ err: error }, 'collection failed');
    await ports.status
      .transition(row({ status: 'EMR_FAILED', processedDataStart: window.start }), ['EMR_PROCESSING'])
      .catch((statusError: unknown) => logger.error({ err: toError(statusError) }, 'could not record EMR_FAILED'));
    return summary({ outcome: 'failed', note: error.message, window: { start: window.start, end: window.end } });
  }
}

async function complete(ports: StepPorts, row: StatusRow): Promise<void> {
  if (!(await ports.status.transition(row, ['EMR_PROCESSING']))) {
    throw new StaleRunnerError('the status row changed while this runner worked: completion not recorded', {
      context: { collection: row.collection, correlationId: row.correlationId },
    });
  }
}
