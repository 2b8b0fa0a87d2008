import pLimit from 'p-limit';
import { toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { CollectionConfig, Window } from '../shared/types.js';
import { decodeBatch } from './record-decoder.js';
import { QuarantineLimitError } from './errors.js';
import type { HBaseSource, KeyService, PublishedRun, RecordSink, RunTarget } from './ports.js';

/**
 * Reads one collection's window from HBase and writes it out: region ranges scanned in parallel (bounded),
 * each batch decoded and handed to the run output, which applies back-pressure. Publishes only when every
 * range was read to the end; on any failure the output is aborted and nothing is published.
 */
export interface CollectionRunPorts {
  readonly hbase: HBaseSource;
  readonly keys: KeyService;
  readonly sink: RecordSink;
}

export interface CollectionRunOptions {
  readonly collection: CollectionConfig;
  readonly correlationId: string;
  readonly triggeredTime: number;
  readonly window: Window;
  readonly folder: string;
  readonly scanConcurrency: number;
  readonly maxQuarantined: number;
  readonly signal?: AbortSignal;
  readonly logger: Logger;
  readonly onProgress?: (records: number) => void;
}

export interface CollectionRunResult {
  readonly records: number;
  readonly quarantined: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly keyLookups: number;
  /** Largest cell timestamp written, or null when the window held nothing. */
  readonly maxTimestamp: number | null;
  readonly published: PublishedRun | undefined;
}

export async function runCollection(ports: CollectionRunPorts, options: CollectionRunOptions): Promise<CollectionRunResult> {
  const { collection, window, logger } = options;
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const target: RunTarget = {
    collection: collection.name,
    db: collection.db,
    table: collection.table,
    pii: collection.pii,
    correlationId: options.correlationId,
    triggeredTime: options.triggeredTime,
    window,
    folder: options.folder,
  };
  const ranges = await ports.hbase.regions(collection.name, signal);
  const output = await ports.sink.open(target);
  let records = 0;
  let quarantined = 0;
  let bytesIn = 0;
  let keyLookups = 0;
  let maxTimestamp = -1;
  try {
    const limit = pLimit(options.scanConcurrency);
    const scans = await Promise.allSettled(ranges.map((range, region) => limit(async () => {
      const rangeLogger = logger.child({ region });
      for await (const cells of ports.hbase.scan({ table: collection.name, range, window, signal })) {
        const batch = await decodeBatch(cells, {
          db: collection.db,
          collection: collection.table,
          correlationId: options.correlationId,
          keys: ports.keys,
          signal,
        });
        bytesIn += batch.bytesIn;
        keyLookups += batch.keyLookups;
        if (batch.maxTimestamp > maxTimestamp) maxTimestamp = batch.maxTimestamp;
        if (batch.quarantined.length > 0) {
          quarantined += batch.quarantined.length;
          if (quarantined > options.maxQuarantined) {
            throw new QuarantineLimitError(`more than ${options.maxQuarantined} records quarantined`, {
              context: { collection: collection.name, correlationId: options.correlationId },
            });
          }
          rangeLogger.warn({ count: batch.quarantined.length, reasons: [...new Set(batch.quarantined.map((q) => q.reason))] }, 'records quarantined');
          await output.quarantine(batch.quarantined);
        }
        if (batch.rows.length > 0) await output.write(batch.rows);
        records += batch.rows.length;
        options.onProgress?.(records);
      }
    }).catch((error: unknown) => {
      // One range failing stops the others: their results would not be published anyway.
      controller.abort(error);
      throw error;
    })));
    const failed = scans.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    if (records === 0 && quarantined === 0) {
      // An empty window publishes nothing; the run still completes (ProcessedDataEnd NULL).
      await output.abort('empty window');
      return { records, quarantined, bytesIn, bytesOut: 0, keyLookups, maxTimestamp: null, published: undefined };
    }
    // Invariant: the manifest is written only after every range was read to its end.
    const published = await output.publish({ maxTimestamp: maxTimestamp < 0 ? null : maxTimestamp });
    return { records, quarantined, bytesIn, bytesOut: published.bytesOut, keyLookups, maxTimestamp: maxTimestamp < 0 ? null : maxTimestamp, published };
  } catch (caught) {
    const error = toError(caught);
    await output.abort(error).catch((abortError: unknown) => logger.error({ err: toError(abortError) }, 'abort of the run output failed'));
    throw error;
  }
}
