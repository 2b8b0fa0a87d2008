import pLimit from 'p-limit';
import { randomBytes } from 'node:crypto';
import { crashPoint } from '../shared/crash-points.js';
import { toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { runFolderOf } from '../shared/time.js';
import type { CollectionConfig, Window } from '../shared/types.js';
import { runCollection, type CollectionEngine, type CollectionRunPorts, type ScanProgress } from './collection-run.js';
import { CollectionBusyError, PublicationRefusedError, StaleRunnerError } from './errors.js';
import { DEFAULT_LEASE, HeldLease, type LeaseSettings } from './lease-keeper.js';
import { catalogTableOf, registerPublishedRuns } from './catalog.js';
import type { CollectionLease, KeyServiceStats, PartitionCatalog, StatusRow, StatusStore } from './ports.js';
import { settleCollection } from './settle.js';
import { computeWindow } from './window.js';

/**
 * The EMR step in scheduled mode: every collection on its own window, a few at a time. Each collection's
 * status moves EMR_PROCESSING → EMR_COMPLETED | EMR_FAILED with conditional writes, and only after its output
 * is published. One runner per collection at a time (its lease); before reading the watermark, the runs that
 * dead runners left are settled from what they published (settle.ts), so however a run ends — crash,
 * reconcile, `ack`, a new trigger, a rerun — every record is published exactly once.
 */
export interface StepPorts extends CollectionRunPorts {
  readonly status: StatusStore;
  readonly lease: CollectionLease;
  /** Key-service counters for one collection (calls, retries, cache hits and misses). */
  keyStats(): KeyServiceStats;
  /** Where published runs are registered for Athena (none: not registered). */
  readonly catalog?: PartitionCatalog;
  /** How the window is read and published (default: `runCollection`, in this process). */
  readonly engine?: CollectionEngine;
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
  /** A record (its envelope) larger than this is quarantined as too-large, still encrypted (default: DEFAULT_MAX_RECORD_BYTES). */
  readonly maxRecordBytes?: number;
  readonly outputPrefix: string;
  readonly emr?: { readonly clusterId: string; readonly readyTime: number };
  readonly signal?: AbortSignal;
  readonly logger: Logger;
  /** Progress of each collection's scan (the `single` engine reports it; Spark's workers run elsewhere). */
  readonly onProgress?: (collection: string, progress: ScanProgress) => void;
  /** The collection lease's duration and how long to wait for a busy collection (defaults: DEFAULT_LEASE). */
  readonly lease?: LeaseSettings;
  /** The clock of leases and status bookkeeping (tests move it). */
  readonly now?: () => number;
}

/** `deferred`: another runner held the collection for the whole lease wait; nothing was read or written. */
export type CollectionOutcome = 'completed' | 'failed' | 'skipped' | 'deferred';

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
  /** Spark tasks the window was cut into (the `spark` engine only). */
  readonly sparkTasks?: number;
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

/** States a runner may move to EMR_PROCESSING (it holds the collection's lease, so EMR_PROCESSING means a dead runner). */
const RUNNABLE_FROM = [undefined, 'LAMBDA_TRIGGERED', 'WAITING', 'EMR_LAUNCHED', 'EMR_PROCESSING', 'EMR_FAILED'] as const;
/** States a runner that found its collection busy moves to DEFERRED (not a failure: nothing was tried). */
const DEFERRABLE_FROM = [undefined, 'LAMBDA_TRIGGERED', 'WAITING', 'EMR_LAUNCHED'] as const;
const REASON_MAX = 400;

async function runOne(ports: StepPorts, collection: CollectionConfig, request: StepRunRequest): Promise<CollectionSummary> {
  const started = Date.now();
  const now = request.now ?? Date.now;
  const attempt = randomBytes(4).toString('hex');
  const logger = request.logger.child({ correlationId: request.correlationId, collection: collection.name, attempt });
  const folder = runFolderOf(request.outputPrefix, collection, request.triggeredTime, request.correlationId);
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
  const held = await HeldLease.take(ports.lease, { collection: collection.name, attempt, correlationId: request.correlationId }, request.lease ?? DEFAULT_LEASE, {
    now, logger, ...(request.signal ? { signal: request.signal } : {}),
    onWait: (holder) => logger.info({ holder }, 'collection is being processed by another runner; waiting for its lease'),
  });
  if (!(held instanceof HeldLease)) {
    const busy = new CollectionBusyError(`another runner holds ${collection.name}: run ${held.busy.correlationId} (attempt ${held.busy.attempt}) until ${new Date(held.busy.expiresAt).toISOString()}`, { context: { collection: collection.name } });
    logger.warn({ err: busy }, 'collection deferred');
    await ports.status.transition(row({ status: 'DEFERRED', reason: busy.message }), DEFERRABLE_FROM);
    return summary({ outcome: 'deferred', note: busy.message });
  }
  try {
    const result = await underLease(ports, collection, request, { held, attempt, folder, logger, now, row, summary });
    // After the manifest and the status: registers this run and any earlier one whose registration failed.
    await registerPublishedRuns(ports.catalog, catalogTableOf(collection, request.outputPrefix, 'incremental'), logger);
    return result;
  } finally {
    await held.release();
  }
}

interface LeaseContext {
  readonly held: HeldLease;
  readonly attempt: string;
  readonly folder: string;
  readonly logger: Logger;
  readonly now: () => number;
  readonly row: (fields: Partial<StatusRow> & Pick<StatusRow, 'status'>) => StatusRow;
  readonly summary: (fields: Partial<CollectionSummary> & { outcome: CollectionOutcome }) => CollectionSummary;
}

async function underLease(ports: StepPorts, collection: CollectionConfig, request: StepRunRequest, ctx: LeaseContext): Promise<CollectionSummary> {
  const { held, attempt, folder, logger, row, summary } = ctx;
  // The published output decides: runs that died after their manifest count as completed before the
  // watermark is read (this run's own earlier attempt included), and unpublished leftovers are removed.
  const settled = await settleCollection(ports, collection, { correlationId: request.correlationId, now: ctx.now, logger });
  const own = settled.completed.find((c) => c.row.correlationId === request.correlationId);
  if (own !== undefined) {
    logger.info({ folder }, 'run was already published; status completed');
    return summary({ outcome: 'completed', note: 'already published', records: own.published.rows, maxTimestamp: own.published.maxTimestamp });
  }

  const watermark = await ports.status.lastCompletedEnd(collection.name);
  const window = computeWindow({ watermark, endTime: request.endTime, visibilityLagMs: request.visibilityLagMs });
  const start = window.start;
  const processing = row({ status: 'EMR_PROCESSING', processedDataStart: start, owner: attempt, outputFolder: folder, outputChecked: null, reason: null });
  // Never a row whose publication is claimed: the settle step above completed it (or it is another runner's, live).
  if (!(await ports.status.transition(processing, RUNNABLE_FROM, { unclaimed: true }))) {
    const current = await ports.status.get(request.correlationId, collection.name);
    const error = new StaleRunnerError(`the status row is ${current?.status ?? '(gone)'}: this run can no longer process the collection`, { context: { collection: collection.name, correlationId: request.correlationId } });
    logger.error({ err: error }, 'collection not started');
    return summary({ outcome: current?.status === 'EMR_COMPLETED' ? 'skipped' : 'failed', note: error.message });
  }
  held.keepAlive(() => ports.status.touch(request.correlationId, collection.name, attempt));
  crashPoint('after-status-processing');
  if (window.empty) {
    await complete(ports, row({ status: 'EMR_COMPLETED', processedDataStart: start, processedDataEnd: null, reason: window.reason }), attempt);
    logger.info({ reason: window.reason }, 'window is empty; completed with nothing to publish');
    return summary({ outcome: 'completed', note: window.reason, maxTimestamp: null });
  }

  try {
    logger.info({ window }, 'collection started');
    const signal = request.signal ? AbortSignal.any([request.signal, held.signal]) : held.signal;
    const result = await (ports.engine ?? runCollection)(ports, {
      collection,
      correlationId: request.correlationId,
      attempt,
      triggeredTime: request.triggeredTime,
      window: { start: window.start, end: window.end },
      folder,
      scanConcurrency: request.scanConcurrency,
      maxQuarantined: request.maxQuarantined,
      ...(request.maxRecordBytes === undefined ? {} : { maxRecordBytes: request.maxRecordBytes }),
      signal,
      fence: () => held.fence(),
      claim: () => claimPublication(ports, request.correlationId, collection.name, attempt),
      logger,
      ...(request.onProgress ? { onProgress: (p: ScanProgress) => request.onProgress?.(collection.name, p) } : {}),
    });
    crashPoint('after-manifest');
    // Invariant: the watermark (ProcessedDataEnd of EMR_COMPLETED) moves only after the manifest is written.
    await complete(ports, row({ status: 'EMR_COMPLETED', processedDataStart: window.start, processedDataEnd: result.maxTimestamp }), attempt);
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
      ...(result.keys ? { keys: result.keys } : {}),
      ...(result.tasks !== undefined ? { sparkTasks: result.tasks } : {}),
    });
  } catch (caught) {
    const error = toError(caught);
    logger.error({ err: error }, 'collection failed');
    await ports.status
      .transition(row({ status: 'EMR_FAILED', processedDataStart: window.start, reason: failureReason(error) }), ['EMR_PROCESSING'], { owner: attempt })
      .catch((statusError: unknown) => logger.error({ err: toError(statusError) }, 'could not record EMR_FAILED'));
    return summary({ outcome: 'failed', note: error.message, window: { start: window.start, end: window.end } });
  }
}

/** The row's `StatusReason` for a failure: the error's class and message, short enough to read in a console. */
export function failureReason(error: Error): string {
  const text = `${error.name}: ${error.message}`;
  return text.length > REASON_MAX ? `${text.slice(0, REASON_MAX - 1)}…` : text;
}

async function complete(ports: StepPorts, row: StatusRow, owner: string): Promise<void> {
  if (await ports.status.transition(row, ['EMR_PROCESSING'], { owner })) return;
  // Another runner's settle step may have completed the row from this attempt's own publication meanwhile.
  const current = await ports.status.get(row.correlationId, row.collection);
  if (current?.status === 'EMR_COMPLETED' && current.publishClaim === owner) return;
  throw new StaleRunnerError(`the status row changed while this runner worked (it is ${current?.status ?? 'gone'}): completion not recorded`, {
    context: { collection: row.collection, correlationId: row.correlationId },
  });
}

/**
 * The run's commit point (see `StatusStore.claimPublication`). Refused when a settle step abandoned this run
 * (its lease expired while it stalled, and another runner took the collection over) or another attempt owns
 * the row: then nothing of this attempt may be published, and the other runner reads its window.
 */
async function claimPublication(ports: StepPorts, correlationId: string, collection: CollectionConfig['name'], attempt: string): Promise<void> {
  if (await ports.status.claimPublication(correlationId, collection, attempt)) return;
  const current = await ports.status.get(correlationId, collection);
  const why = current === undefined ? 'the status row is gone'
    : current.outputChecked !== undefined ? `another runner's settle step abandoned this run (its lease had expired); the row is ${current.status}`
      : current.owner !== attempt ? `attempt ${current.owner ?? '(none)'} owns the row now`
        : `the row is ${current.status}`;
  throw new PublicationRefusedError(`publication refused: ${why}. Nothing of this attempt is published; the next run reads its window`, {
    context: { collection, correlationId, attempt },
  });
}
