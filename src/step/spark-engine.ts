import { toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { openOptionsOf, runTargetOf, type CollectionEngine, type CollectionRunOptions, type CollectionRunPorts, type CollectionRunResult } from './collection-run.js';
import { PublicationRefusedError, QuarantineLimitError, SparkJobError } from './errors.js';
import { QUARANTINE_FOLDER, type KeyServiceStats } from './ports.js';
import { planRanges } from './range-plan.js';
import type { RangeResult, RangeTask } from './range-task.js';

/**
 * The `spark` engine (DESIGN.md §3.8): the step plans, Spark fans out, the step commits.
 * - Plan: the table's regions cut by CRC prefix into `tasks` ranges that tile the key space.
 * - Fan-out: one Spark task per range; each spawns the Node worker, which stages its parts.
 * - Commit: exactly one winning result per range, or nothing is published; the winners' parts are completed,
 *   every other object of the folder removed, then the manifest (once) and `_SUCCESS`.
 */
export interface SparkJob {
  /** The Spark application's name, e.g. `ingest-replica core:addresses <correlation id>`. */
  readonly name: string;
  readonly tasks: readonly RangeTask[];
}

/** Runs Spark jobs (spark-submit in the adapter). */
export interface SparkJobs {
  /**
   * One task per range; resolves with each task's winning result (Spark's `collect`), rejects with a
   * SparkJobError when the job failed. Aborting kills the job, its workers included.
   */
  run(job: SparkJob, signal: AbortSignal, logger: Logger, onProgress?: (progress: SparkProgress) => void): Promise<RangeResult[]>;
}

/** How far a job is: ranges finished (by their winning attempt) and the records they read. */
export interface SparkProgress {
  readonly tasksDone: number;
  readonly tasks: number;
  readonly records: number;
}

export interface SparkEngineSettings {
  /** Target task count per collection (`taskTarget`). */
  readonly tasks: number;
}

export function sparkEngine(jobs: SparkJobs, settings: SparkEngineSettings): CollectionEngine {
  return (ports, options) => runOnSpark(ports, jobs, settings, options);
}

async function runOnSpark(ports: CollectionRunPorts, jobs: SparkJobs, settings: SparkEngineSettings, options: CollectionRunOptions): Promise<CollectionRunResult> {
  const { collection, logger } = options;
  const signal = options.signal ?? new AbortController().signal;
  const ranges = planRanges(await ports.hbase.regions(collection.name, signal), settings.tasks);
  // Leftovers of an earlier unpublished attempt of this folder go first: only the winners may remain.
  await ports.sink.discard(options.folder);
  const tasks: RangeTask[] = ranges.map((range) => ({
    collection,
    correlationId: options.correlationId,
    runAttempt: options.attempt,
    triggeredTime: options.triggeredTime,
    window: options.window,
    folder: options.folder,
    maxQuarantined: options.maxQuarantined,
    ...(options.maxRecordBytes === undefined ? {} : { maxRecordBytes: options.maxRecordBytes }),
    range: { index: range.index, startRow: range.startRow.toString('base64'), endRow: range.endRow.toString('base64') },
  }));
  logger.info({ tasks: tasks.length, regions: new Set(ranges.map((r) => r.region)).size }, 'spark job planned');
  try {
    const report = options.onProgress;
    // Ranges are cut to about equal shares of the key space (range-plan.ts): finished ranges measure it.
    const onProgress = report && ((p: SparkProgress) => report({ records: p.records, done: p.tasks === 0 ? 1 : p.tasksDone / p.tasks }));
    const results = winnersOf(await jobs.run({ name: `ingest-replica ${collection.name} ${options.correlationId}`, tasks }, signal, logger, onProgress), tasks.length, options.folder);
    const records = sum(results, (r) => r.records);
    const quarantined = sum(results, (r) => r.quarantined);
    if (quarantined > options.maxQuarantined) {
      throw new QuarantineLimitError(`more than ${options.maxQuarantined} records quarantined`, { context: { collection: collection.name, correlationId: options.correlationId, quarantined } });
    }
    const stamps = results.map((r) => r.maxTimestamp).filter((t): t is number => t !== null);
    const maxTimestamp = stamps.length === 0 ? null : Math.max(...stamps);
    const common = { records, quarantined, bytesIn: sum(results, (r) => r.bytesIn), keyLookups: sum(results, (r) => r.keyLookups), keys: keyStatsOf(results), tasks: tasks.length };
    await options.fence?.();
    if (records === 0 && quarantined === 0) {
      await ports.sink.discard(options.folder);
      return { ...common, bytesOut: 0, maxTimestamp: null, published: undefined };
    }
    const published = await ports.sink.commit(runTargetOf(options), results.map((r) => r.output), { maxTimestamp }, openOptionsOf(options));
    if (published.rows !== records) {
      throw new SparkJobError('the published parts hold a different row count than the tasks reported', { context: { folder: options.folder, published: published.rows, records } });
    }
    return { ...common, bytesOut: published.bytesOut, maxTimestamp, published };
  } catch (caught) {
    const error = toError(caught);
    // A refused claim: a settle step owns the folder now (and the commit removed its own objects).
    if (error instanceof PublicationRefusedError) throw error;
    await ports.sink.discard(options.folder).catch((e: unknown) => logger.warn({ err: toError(e) }, 'could not remove the unpublished task outputs; the next run removes them'));
    throw error;
  }
}

/** Exactly one result per range, each from the attempt its keys name; anything else publishes nothing. */
function winnersOf(results: readonly RangeResult[], ranges: number, folder: string): RangeResult[] {
  const byRange = new Map<number, RangeResult>();
  for (const result of results) {
    if (!Number.isInteger(result.range) || result.range < 0 || result.range >= ranges) {
      throw new SparkJobError(`the Spark job returned a result for range ${result.range}, which was not planned`, { context: { ranges } });
    }
    if (byRange.has(result.range)) throw new SparkJobError(`the Spark job returned two results for range ${result.range}`, { context: { ranges } });
    // A task attempt stages only under its own token (range-task.ts): `<folder>/part-<token>-…`, `<folder>/_quarantine/<token>-…`.
    const own = [`${folder}/part-${result.attempt}-`, `${folder}/${QUARANTINE_FOLDER}/${result.attempt}-`];
    const foreign = [...result.output.files, ...result.output.quarantineFiles].find((f) => !own.some((start) => f.key.startsWith(start)));
    if (foreign) throw new SparkJobError(`range ${result.range}'s result lists ${foreign.key}, not its attempt's`, { context: { attempt: result.attempt } });
    byRange.set(result.range, result);
  }
  const missing = Array.from({ length: ranges }, (_, i) => i).filter((i) => !byRange.has(i));
  if (missing.length > 0) throw new SparkJobError(`the Spark job returned no result for ranges ${missing.slice(0, 10).join(', ')}`, { context: { ranges, missing: missing.length } });
  return [...byRange.values()].sort((a, b) => a.range - b.range);
}

function keyStatsOf(results: readonly RangeResult[]): KeyServiceStats {
  return {
    calls: sum(results, (r) => r.keys.calls), retries: sum(results, (r) => r.keys.retries),
    hits: sum(results, (r) => r.keys.hits), misses: sum(results, (r) => r.keys.misses),
  };
}

const sum = <T>(items: readonly T[], of: (item: T) => number): number => items.reduce((total, item) => total + of(item), 0);
