import pLimit from 'p-limit';
import { crashPoint } from '../shared/crash-points.js';
import { toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { CollectionConfig, Window } from '../shared/types.js';
import { decodeBatch } from './record-decoder.js';
import { QuarantineLimitError } from './errors.js';
import type { Cell, HBaseSource, KeyRange, KeyService, KeyServiceStats, OpenOptions, PublishedRun, RecordSink, RunOutput, RunTarget } from './ports.js';

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
  /** Awaited before every object written; throws when this runner may no longer write (its lease). */
  readonly fence?: () => Promise<void>;
  /** The run's commit point before its manifest (see `OpenOptions.claim`). */
  readonly claim?: () => Promise<void>;
  readonly scanConcurrency: number;
  readonly maxQuarantined: number;
  /** A record (its envelope) larger than this is quarantined as too-large, still encrypted (default: DEFAULT_MAX_RECORD_BYTES). */
  readonly maxRecordBytes?: number;
  readonly signal?: AbortSignal;
  readonly logger: Logger;
  /** Records so far, and the share of the key space read (0–1): row keys start with a CRC32, so it tracks the work. */
  readonly onProgress?: (progress: ScanProgress) => void;
}

export interface ScanProgress {
  readonly records: number;
  /** Share of the window's key space read so far, 0–1. */
  readonly done: number;
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
  /** Key-service counters summed over the engine's worker processes (the `spark` engine; `single` has the ports'). */
  readonly keys?: KeyServiceStats;
  /** Spark tasks the window was cut into (the `spark` engine). */
  readonly tasks?: number;
}

/** How a collection's window is read and published: in this process (`runCollection`) or by Spark. */
export type CollectionEngine = (ports: CollectionRunPorts, options: CollectionRunOptions) => Promise<CollectionRunResult>;

export function runTargetOf(options: Pick<CollectionRunOptions, 'collection' | 'correlationId' | 'attempt' | 'triggeredTime' | 'window' | 'folder'>): RunTarget {
  const { collection } = options;
  return {
    collection: collection.name, db: collection.db, table: collection.table, pii: collection.pii,
    correlationId: options.correlationId, attempt: options.attempt, triggeredTime: options.triggeredTime,
    window: options.window, folder: options.folder,
  };
}

export async function runCollection(ports: CollectionRunPorts, options: CollectionRunOptions): Promise<CollectionRunResult> {
  const { collection, logger } = options;
  const controller = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
  const target = runTargetOf(options);
  const ranges = await ports.hbase.regions(collection.name, signal);
  const output = await ports.sink.open(target, openOptionsOf(options));
  const tally = newTally();
  const progress = options.onProgress === undefined ? undefined : keySpaceProgress(ranges, tally, options.onProgress);
  try {
    const limit = pLimit(options.scanConcurrency);
    const scans = await Promise.allSettled(ranges.map((range, region) => limit(async () => {
      const { onProgress: _whole, ...rest } = options;
      await readRange(ports, output, tally, { ...rest, range, signal, logger: logger.child({ region }), ...(progress ? { onProgress: (_records: number, lastRow: Buffer) => progress.at(region, lastRow) } : {}) });
      progress?.at(region, undefined);
    }).catch((error: unknown) => {
      // One range failing stops the others: their results would not be published anyway.
      controller.abort(error);
      throw error;
    })));
    const failed = scans.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    const { records, quarantined, bytesIn, keyLookups } = tally;
    const maxTimestamp = tally.maxTimestamp < 0 ? null : tally.maxTimestamp;
    if (records === 0 && quarantined === 0) {
      // An empty window publishes nothing; the run still completes (ProcessedDataEnd NULL).
      await output.abort('empty window');
      return { records, quarantined, bytesIn, bytesOut: 0, keyLookups, maxTimestamp: null, published: undefined };
    }
    // Invariant: the manifest is written only after every range was read to its end.
    const published = await output.publish({ maxTimestamp });
    return { records, quarantined, bytesIn, bytesOut: published.bytesOut, keyLookups, maxTimestamp, published };
  } catch (caught) {
    const error = toError(caught);
    await output.abort(error).catch((abortError: unknown) => logger.error({ err: toError(abortError) }, 'abort of the run output failed'));
    throw error;
  }
}

/** What reading ranges added up to; shared by the ranges of one output. */
export interface ReadTally {
  records: number;
  quarantined: number;
  bytesIn: number;
  keyLookups: number;
  /** Largest cell timestamp read, -1 for none. */
  maxTimestamp: number;
}

export const newTally = (): ReadTally => ({ records: 0, quarantined: 0, bytesIn: 0, keyLookups: 0, maxTimestamp: -1 });

export interface ReadRangeOptions {
  readonly collection: CollectionConfig;
  readonly correlationId: string;
  readonly range: KeyRange;
  readonly window: Window;
  readonly maxQuarantined: number;
  /** A record (its envelope) larger than this is quarantined as too-large, still encrypted (default: DEFAULT_MAX_RECORD_BYTES). */
  readonly maxRecordBytes?: number;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** After each slice: the records so far and the last row key read. */
  readonly onProgress?: (records: number, lastRow: Buffer) => void;
}

/**
 * How much of the key space the ranges of one window have read, from the 4-byte CRC32 prefix of the last row
 * key each range read (keys spread uniformly over it, so the share of prefixes passed is the share of the work).
 */
function keySpaceProgress(ranges: readonly KeyRange[], tally: ReadTally, report: (progress: ScanProgress) => void): { at(range: number, lastRow: Buffer | undefined): void } {
  const bounds = ranges.map((r) => [prefixOf(r.startRow, 0), r.endRow.length === 0 ? 2 ** 32 : prefixOf(r.endRow, 2 ** 32)] as const);
  const widths = bounds.map(([a, b]) => Math.max(b - a, 1));
  const total = widths.reduce((sum, w) => sum + w, 0);
  const read = widths.map(() => 0);
  return {
    at(range, lastRow) {
      const [start, end] = bounds[range] as readonly [number, number];
      const width = widths[range] as number;
      // undefined: the range is finished.
      read[range] = lastRow === undefined ? width : Math.min(width, Math.max(0, Math.min(prefixOf(lastRow, start), end) - start));
      report({ records: tally.records, done: read.reduce((sum, r) => sum + r, 0) / total });
    },
  };
}

/** The first 4 bytes of a row key as a number (shorter keys padded with zeros); `empty` for an empty key. */
function prefixOf(key: Buffer, empty: number): number {
  if (key.length === 0) return empty;
  const four = Buffer.alloc(4);
  key.copy(four, 0, 0, 4);
  return four.readUInt32BE(0);
}

/**
 * One key range of the window, scanned in order, each slice of cells decoded (keys unwrapped, records
 * decrypted in memory) and handed to the output, which applies back-pressure. Both engines read this way:
 * `single` every range in this process, `spark` one range per task in the worker (range-task.ts).
 */
export async function readRange(
  ports: Pick<CollectionRunPorts, 'hbase' | 'keys'>,
  output: Pick<RunOutput, 'write' | 'quarantine'>,
  tally: ReadTally,
  options: ReadRangeOptions,
): Promise<void> {
  const { collection, signal } = options;
  // Each slice is done with (decoded, written, its quarantined records copied) before the next is asked for.
  const scan = ports.hbase.scan({ table: collection.name, range: options.range, window: options.window, signal, reuseMemory: true });
  for await (const cells of slices(scan, DECODE_SLICE)) {
    const batch = await decodeBatch(cells, {
      db: collection.db, collection: collection.table, correlationId: options.correlationId, keys: ports.keys, signal,
      ...(options.maxRecordBytes === undefined ? {} : { maxRecordBytes: options.maxRecordBytes }),
    });
    try {
      tally.bytesIn += batch.bytesIn;
      tally.keyLookups += batch.keyLookups;
      if (batch.maxTimestamp > tally.maxTimestamp) tally.maxTimestamp = batch.maxTimestamp;
      if (batch.quarantined.length > 0) {
        tally.quarantined += batch.quarantined.length;
        if (tally.quarantined > options.maxQuarantined) {
          throw new QuarantineLimitError(`more than ${options.maxQuarantined} records quarantined`, {
            context: { collection: collection.name, correlationId: options.correlationId },
          });
        }
        options.logger.warn({ count: batch.quarantined.length, reasons: [...new Set(batch.quarantined.map((q) => q.reason))] }, 'records quarantined');
        await output.quarantine(batch.quarantined);
      }
      if (batch.rows.length > 0) await output.write(batch.rows);
      tally.records += batch.rows.length;
      const last = cells[cells.length - 1];
      if (last !== undefined) options.onProgress?.(tally.records, last.rowKey);
    } finally {
      // The rows' plaintext bytes were copied into the part (or the run failed): zero them now.
      batch.release();
    }
    crashPoint('after-scan-batch');
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

/** The sink's options from a run's: its fence and its commit point, when it has them. */
export function openOptionsOf(options: Pick<CollectionRunOptions, 'fence' | 'claim'>): OpenOptions {
  return { ...(options.fence ? { fence: options.fence } : {}), ...(options.claim ? { claim: options.claim } : {}) };
}
