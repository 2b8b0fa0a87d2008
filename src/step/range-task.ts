import { toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { CollectionConfig, Window } from '../shared/types.js';
import { newTally, readRange, runTargetOf } from './collection-run.js';
import type { HBaseSource, KeyService, KeyServiceStats, RecordSink, SealedTaskOutput } from './ports.js';

/**
 * One Spark task's work, done by the Node worker (`ingest-replica scan-range`): scan one key range of the
 * window, decrypt, and stage Parquet parts under attempt-scoped keys. The step commits the winners.
 */
export interface RangeTask {
  readonly collection: CollectionConfig;
  readonly correlationId: string;
  /** The step runner's attempt: every task attempt's token starts with it. */
  readonly runAttempt: string;
  readonly triggeredTime: number;
  readonly window: Window;
  readonly folder: string;
  readonly maxQuarantined: number;
  /** A record (its envelope) larger than this is quarantined as too-large, still encrypted (default: DEFAULT_MAX_RECORD_BYTES). */
  readonly maxRecordBytes?: number;
  /** The range's position in key order, and its bounds (base64; empty = open-ended). */
  readonly range: { readonly index: number; readonly startRow: string; readonly endRow: string };
}

/** Which Spark task attempt runs the range (from PySpark's TaskContext). */
export interface TaskAttempt {
  readonly attemptNumber: number;
  /** Unique within one SparkContext only: the run attempt in the token makes it unique overall. */
  readonly taskAttemptId: number;
}

export interface RangeResult {
  readonly range: number;
  /** The task attempt's token: in every key it staged. */
  readonly attempt: string;
  readonly records: number;
  readonly quarantined: number;
  readonly bytesIn: number;
  readonly keyLookups: number;
  readonly maxTimestamp: number | null;
  readonly keys: KeyServiceStats;
  readonly durationMs: number;
  readonly output: SealedTaskOutput;
}

export interface RangeTaskPorts {
  readonly hbase: HBaseSource;
  readonly keys: KeyService;
  readonly sink: RecordSink;
  keyStats(): KeyServiceStats;
}

export function attemptToken(task: Pick<RangeTask, 'runAttempt' | 'range'>, attempt: TaskAttempt): string {
  return `${task.runAttempt}-r${String(task.range.index).padStart(5, '0')}-a${attempt.attemptNumber}-t${attempt.taskAttemptId}`;
}

export async function runRangeTask(ports: RangeTaskPorts, task: RangeTask, attempt: TaskAttempt, logger: Logger, signal?: AbortSignal): Promise<RangeResult> {
  const started = Date.now();
  const token = attemptToken(task, attempt);
  const log = logger.child({ correlationId: task.correlationId, collection: task.collection.name, range: task.range.index, attempt: token });
  const output = await ports.sink.openTask(runTargetOf({ ...task, attempt: token }));
  const tally = newTally();
  try {
    await readRange(ports, output, tally, {
      collection: task.collection,
      correlationId: task.correlationId,
      range: { startRow: Buffer.from(task.range.startRow, 'base64'), endRow: Buffer.from(task.range.endRow, 'base64') },
      window: task.window,
      maxQuarantined: task.maxQuarantined,
      ...(task.maxRecordBytes === undefined ? {} : { maxRecordBytes: task.maxRecordBytes }),
      signal: signal ?? new AbortController().signal,
      logger: log,
    });
    const sealed = await output.seal();
    const result: RangeResult = {
      range: task.range.index, attempt: token,
      records: tally.records, quarantined: tally.quarantined, bytesIn: tally.bytesIn, keyLookups: tally.keyLookups,
      maxTimestamp: tally.maxTimestamp < 0 ? null : tally.maxTimestamp,
      keys: ports.keyStats(), durationMs: Date.now() - started, output: sealed,
    };
    log.info({ records: result.records, quarantined: result.quarantined, parts: sealed.files.length, durationMs: result.durationMs, dksCalls: result.keys.calls }, 'range staged');
    return result;
  } catch (caught) {
    const error = toError(caught);
    await output.abort(error).catch((e: unknown) => log.error({ err: toError(e) }, 'abort of the task output failed'));
    throw error;
  }
}
