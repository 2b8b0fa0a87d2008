import pLimit from 'p-limit';
import { crashPoint } from '../shared/crash-points.js';
import { toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { CollectionConfig, Window } from '../shared/types.js';
import { decodeBatch } from './record-decoder.js';
import { QuarantineLimitError } from './errors.js';
import type { Cell, HBaseSource, KeyService, PublishedRun, RecordSink, RunTarget } from './ports.js';

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
  /** This runner's attempt token (part names). */
  readonly attempt: string;
  readonly triggeredTime: number;
  readonly window: Window;
  readonly folder: string;
  /** Called before every object written; throws when this runner may no longer write (its lease). */
  readonly fence?: () => void;
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
    attempt: options.attempt,
    triggeredTime: options.triggeredTime,
    window,
    folder: options.folder,
  };
  const ranges = await ports.hbase.regions(collection.name, signal);
  const output = await ports.sink.open(target, options.fence ? { fence: options.fence } : {});
  let records = 0;
  let quarantined = 0;
  let bytesIn = 0;
  let keyLookups = 0;
  let maxTimestamp = -1;
  try {
    const limit = pLimit(options.scanConcurrency);
    const scans = await Promise.allSettled(ranges.map((range, region) => limit(async () => {
      const rangeLogger = logger.child({ region });
      for await (const cells of slices(ports.hbase.scan({ table: collection.name, range, window, signal }), DECODE_SLICE)) {
        const batch = await decodeBatch(cells, {
          db: collection.db,
          collection: collection.table,
          correlationId: options.correlationId,
          keys: ports.keys,
          signal,
        });
        try {
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
        } finally {
          // The rows' plaintext bytes were copied into the part (or the run failed): zero them now.
          batch.release();
        }
        crashPoint('after-scan-batch');
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

/**
 * Cells decoded and written at a time. A scanner response holds thousands of cells; a slice at a time keeps
 * few decrypted rows alive at once (bounded memory, and garbage that dies young, which is cheap to collect).
 */
const DECODE_SLICE = 128;

async function* slices(responses: AsyncIterable<Cell[]>, size: number): AsyncGenerator<Cell[]> {
  for await (const cells of responses) {
    if (cells.length <= size) yield cells;
    else for (let start = 0; start < cells.length; start += size) yield cells.slice(start, start + size);
  }
}
