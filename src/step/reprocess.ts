import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '../shared/logger.js';
import { runFolderOf } from '../shared/time.js';
import type { CollectionConfig, Window } from '../shared/types.js';
import { catalogTableOf, registerPublishedRuns } from './catalog.js';
import { runCollection, type ScanProgress } from './collection-run.js';
import type { CollectionSummary, StepPorts } from './run-step.js';

/**
 * Ad hoc reprocessing of one collection over a chosen window. It writes under its own prefix, in a folder of
 * its own (named after its own correlation id, so two reprocesses started in the same minute never meet),
 * never reads or moves the watermark and never touches the status table, so the scheduled runs are unaffected.
 */
export interface ReprocessRequest {
  readonly collection: CollectionConfig;
  readonly window: Window;
  readonly outputPrefix: string;
  readonly scanConcurrency: number;
  readonly maxQuarantined: number;
  /** A record (its envelope) larger than this is quarantined as too-large, still encrypted (default: DEFAULT_MAX_RECORD_BYTES). */
  readonly maxRecordBytes?: number;
  readonly now?: number;
  readonly signal?: AbortSignal;
  readonly logger: Logger;
  readonly onProgress?: (progress: ScanProgress) => void;
}

export async function reprocess(ports: StepPorts, request: ReprocessRequest): Promise<CollectionSummary> {
  const started = Date.now();
  const now = request.now ?? started;
  const { collection } = request;
  const correlationId = `reprocess-${randomUUID()}`;
  const folder = runFolderOf(request.outputPrefix, collection, now, correlationId);
  const logger = request.logger.child({ correlationId, collection: collection.name });
  logger.info({ window: request.window, folder }, 'reprocessing started');
  const result = await (ports.engine ?? runCollection)(ports, {
    collection,
    correlationId,
    attempt: randomBytes(4).toString('hex'),
    triggeredTime: now,
    window: request.window,
    folder,
    scanConcurrency: request.scanConcurrency,
    maxQuarantined: request.maxQuarantined,
    ...(request.maxRecordBytes === undefined ? {} : { maxRecordBytes: request.maxRecordBytes }),
    ...(request.signal ? { signal: request.signal } : {}),
    logger,
    ...(request.onProgress ? { onProgress: request.onProgress } : {}),
  });
  await registerPublishedRuns(ports.catalog, catalogTableOf(collection, request.outputPrefix, 'reprocess'), logger);
  return {
    collection: collection.name,
    outcome: 'completed',
    window: request.window,
    folder,
    records: result.records,
    quarantined: result.quarantined,
    bytesIn: result.bytesIn,
    bytesOut: result.bytesOut,
    keyLookups: result.keyLookups,
    keys: result.keys ?? ports.keyStats(),
    ...(result.tasks !== undefined ? { sparkTasks: result.tasks } : {}),
    durationMs: Date.now() - started,
    maxTimestamp: result.maxTimestamp,
    files: result.published?.files.map((f) => f.key) ?? [],
  };
}
