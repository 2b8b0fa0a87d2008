import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/shared/logger.js';
import type { CollectionRunOptions, CollectionRunPorts } from '../../src/step/collection-run.js';
import { PublicationRefusedError, QuarantineLimitError, SparkJobError } from '../../src/step/errors.js';
import type {
  HBaseSource, KeyRange, OpenOptions, PublishedRun, RecordSink, RunOutput, RunTarget, SealedTaskOutput, TaskOutput,
} from '../../src/step/ports.js';
import { checkTiling } from '../../src/step/range-plan.js';
import { attemptToken, type RangeResult, type RangeTask } from '../../src/step/range-task.js';
import { sparkEngine, type SparkJob, type SparkJobs, type SparkProgress } from '../../src/step/spark-engine.js';
import { sparkProgressOf } from '../../src/spark/spark-submit-adapter.js';
import { FakeKeys } from '../support/fakes.js';

const EMPTY = Buffer.alloc(0);
const folder = 'incremental/core_addresses/20200805-0707_run-1';

/** Regions only: the step plans from them and never scans (the Spark tasks do). */
class RegionsOnly implements HBaseSource {
  readonly asked: string[] = [];
  constructor(private readonly list: KeyRange[]) {}

  regions(table: string): Promise<KeyRange[]> {
    this.asked.push(table);
    return Promise.resolve(this.list);
  }

  // eslint-disable-next-line require-yield
  async *scan(): AsyncIterable<never> {
    throw new Error('the step does not scan on the spark engine');
  }
}

interface CommitCall {
  readonly target: RunTarget;
  readonly winners: readonly SealedTaskOutput[];
  readonly summary: { maxTimestamp: number | null };
  readonly options: OpenOptions | undefined;
}

/** A record sink that records what the engine asks of it; `commit` publishes the winners' files as they are. */
class SpySink implements RecordSink {
  readonly calls: string[] = [];
  readonly commits: CommitCall[] = [];
  /** Rows the published run claims beyond the winners' (a sink that disagrees with the tasks). */
  extraRows = 0;

  open(): Promise<RunOutput> {
    return Promise.reject(new Error('the spark engine never opens a run output'));
  }

  openTask(): Promise<TaskOutput> {
    return Promise.reject(new Error('the step never opens a task output'));
  }

  publishPending(): Promise<PublishedRun | undefined> {
    return Promise.reject(new Error('the spark engine never settles'));
  }

  /** Refuse the commit as a claim refused by the status table would. */
  refuseClaim = false;

  commit(target: RunTarget, winners: readonly SealedTaskOutput[], summary: { maxTimestamp: number | null }, options?: OpenOptions): Promise<PublishedRun> {
    this.calls.push('commit');
    this.commits.push({ target, winners, summary, options });
    if (this.refuseClaim) return Promise.reject(new PublicationRefusedError('publication refused', {}));
    const files = winners.flatMap((w) => w.files).map(({ key, rows, bytes, sha256 }) => ({ key, rows, bytes, sha256 }));
    const rows = files.reduce((s, f) => s + f.rows, 0) + this.extraRows;
    return Promise.resolve({
      folder: target.folder, correlationId: target.correlationId, attempt: target.attempt, collection: target.collection,
      window: target.window, maxTimestamp: summary.maxTimestamp, manifestKey: `${target.folder}/_manifest.json`, files, rows,
      quarantined: winners.flatMap((w) => w.quarantineFiles).reduce((s, f) => s + f.records, 0),
      bytesOut: files.reduce((s, f) => s + f.bytes, 0),
    });
  }

  published(): Promise<PublishedRun | undefined> {
    return Promise.resolve(undefined);
  }

  ensureSuccessMarker(): Promise<void> {
    return Promise.resolve();
  }

  discard(folder: string): Promise<number> {
    this.calls.push(`discard ${folder}`);
    return Promise.resolve(0);
  }
}

/** A Spark job runner that answers with results crafted from the tasks it was given. */
class FakeJobs implements SparkJobs {
  readonly jobs: SparkJob[] = [];
  readonly signals: AbortSignal[] = [];
  constructor(private readonly answer: (tasks: readonly RangeTask[]) => RangeResult[] | Promise<RangeResult[]>) {}

  async run(job: SparkJob, signal: AbortSignal, _logger: unknown, onProgress?: (progress: SparkProgress) => void): Promise<RangeResult[]> {
    this.jobs.push(job);
    this.signals.push(signal);
    const results = await this.answer(job.tasks);
    // As the driver reports them: each finished range, with the records read so far.
    let records = 0;
    results.forEach((r, i) => {
      records += r.records;
      onProgress?.({ tasksDone: i + 1, tasks: job.tasks.length, records });
    });
    return results;
  }
}

interface Shape {
  readonly records?: number;
  readonly quarantined?: number;
  readonly maxTimestamp?: number | null;
  readonly attemptNumber?: number;
  readonly taskAttemptId?: number;
}

/** The result a worker returns for a task: one part of `records` rows and one quarantine file, under its token. */
function resultOf(task: RangeTask, shape: Shape = {}): RangeResult {
  const records = shape.records ?? 10;
  const quarantined = shape.quarantined ?? 0;
  const attempt = attemptToken(task, { attemptNumber: shape.attemptNumber ?? 0, taskAttemptId: shape.taskAttemptId ?? 100 + task.range.index });
  const staged = (key: string) => ({ key, uploadId: `u-${key}`, parts: [{ partNumber: 1, etag: '"e"' }], bytes: 7, sha256: 'a'.repeat(64) });
  return {
    range: task.range.index, attempt, records, quarantined, bytesIn: 100 * records, keyLookups: records,
    maxTimestamp: shape.maxTimestamp === undefined ? (records > 0 ? 1_000 + task.range.index : null) : shape.maxTimestamp,
    keys: { calls: 1, retries: 2, hits: 3, misses: 4 }, durationMs: 5,
    output: {
      files: records > 0 ? [{ ...staged(`${task.folder}/part-${attempt}-00001.parquet`), rows: records }] : [],
      quarantineFiles: quarantined > 0 ? [{ ...staged(`${task.folder}/_quarantine/${attempt}-00001.jsonl`), records: quarantined }] : [],
      quarantinedByReason: quarantined > 0 ? { 'bad-base64': quarantined } : {},
    },
  };
}

const regions: KeyRange[] = [
  { startRow: EMPTY, endRow: Buffer.from('40', 'hex') },
  { startRow: Buffer.from('40', 'hex'), endRow: Buffer.from('4000000012', 'hex') },
  { startRow: Buffer.from('4000000012', 'hex'), endRow: Buffer.from('c0', 'hex') },
  { startRow: Buffer.from('c0', 'hex'), endRow: EMPTY },
];

function setup(answer: (tasks: readonly RangeTask[]) => RangeResult[] | Promise<RangeResult[]>, tasks = 8) {
  const hbase = new RegionsOnly(regions);
  const sink = new SpySink();
  const jobs = new FakeJobs(answer);
  const ports: CollectionRunPorts = { hbase, keys: new FakeKeys(new Map()), sink };
  let fenced = 0;
  const options: CollectionRunOptions = {
    collection: { name: 'core:addresses', db: 'core', table: 'addresses', pii: true },
    correlationId: 'run-1', attempt: 'step-a1', triggeredTime: Date.UTC(2020, 7, 5, 7, 7), window: { start: 0, end: 10_000_000 },
    folder, scanConcurrency: 4, maxQuarantined: 5, logger: silentLogger, fence: () => { fenced += 1; return Promise.resolve(); }, claim: () => Promise.resolve(),
  };
  const run = (overrides: Partial<CollectionRunOptions> = {}) => sparkEngine(jobs, { tasks })(ports, { ...options, ...overrides });
  return { hbase, sink, jobs, run, fenced: () => fenced };
}

/** Every task's range, decoded. */
const rangesOf = (tasks: readonly RangeTask[]): KeyRange[] =>
  tasks.map((t) => ({ startRow: Buffer.from(t.range.startRow, 'base64'), endRow: Buffer.from(t.range.endRow, 'base64') }));

/** Runs and expects the engine to fail with `type`, having committed nothing and discarded the folder. */
async function expectFailure(answer: (tasks: readonly RangeTask[]) => RangeResult[], type: new (...args: never[]) => Error, message?: RegExp) {
  const { sink, run } = setup(answer);
  const failure = await run().then(() => undefined, (e: unknown) => e);
  expect(failure).toBeInstanceOf(type);
  if (message) expect((failure as Error).message).toMatch(message);
  expect(sink.commits).toEqual([]);
  // Once before the fan-out (leftovers of an earlier attempt), once after the failure (this job's).
  expect(sink.calls).toEqual([`discard ${folder}`, `discard ${folder}`]);
}

describe('sparkEngine', () => {
  it('gives the job tasks that tile the key space, in key order, each inside one region', async () => {
    const { jobs, hbase, run } = setup((tasks) => tasks.map((t) => resultOf(t)));
    await run();
    expect(hbase.asked).toEqual(['core:addresses']);
    expect(jobs.jobs).toHaveLength(1);
    const { tasks, name } = jobs.jobs[0]!;
    expect(name).toBe('ingest-replica core:addresses run-1');
    expect(tasks.map((t) => t.range.index)).toEqual(tasks.map((_, i) => i));
    expect(tasks.length).toBeGreaterThanOrEqual(regions.length);
    const ranges = rangesOf(tasks);
    expect(() => checkTiling(ranges, 'tasks')).not.toThrow();
    for (const range of ranges) {
      const inside = regions.filter((r) => r.startRow.compare(range.startRow) <= 0
        && (r.endRow.length === 0 || (range.endRow.length > 0 && range.endRow.compare(r.endRow) <= 0)));
      expect(inside).toHaveLength(1);
    }
    for (const t of tasks) {
      expect(t).toMatchObject({ correlationId: 'run-1', runAttempt: 'step-a1', folder, maxQuarantined: 5, window: { start: 0, end: 10_000_000 } });
      expect(t.collection.name).toBe('core:addresses');
    }
    // Plain JSON: the tasks travel to the Spark driver.
    expect(JSON.parse(JSON.stringify(tasks))).toEqual(tasks);
  });

  it('commits the winners in range order with the largest timestamp, and reports the sums', async () => {
    const { jobs, sink, run, fenced } = setup((tasks) => tasks.map((t) => resultOf(t, {
      records: t.range.index + 1, quarantined: t.range.index === 2 ? 3 : 0,
      maxTimestamp: t.range.index === 4 ? 9_999 : t.range.index === 6 ? null : 1_000 + t.range.index,
    })).reverse());
    const result = await run();
    const n = jobs.jobs[0]!.tasks.length;
    expect(sink.calls).toEqual([`discard ${folder}`, 'commit']);
    expect(sink.commits).toHaveLength(1);
    const commit = sink.commits[0]!;
    expect(commit.winners.map((w) => w.files[0]!.key)).toEqual(jobs.jobs[0]!.tasks.map((t) => `${folder}/part-${attemptToken(t, { attemptNumber: 0, taskAttemptId: 100 + t.range.index })}-00001.parquet`));
    expect(commit.summary).toEqual({ maxTimestamp: 9_999 });
    expect(commit.target).toMatchObject({ attempt: 'step-a1', correlationId: 'run-1', folder, collection: 'core:addresses', pii: true });
    expect(typeof commit.options?.fence).toBe('function');
    expect(typeof commit.options?.claim).toBe('function');
    expect(fenced()).toBeGreaterThanOrEqual(1);
    const records = (n * (n + 1)) / 2;
    expect(result).toMatchObject({
      records, quarantined: 3, bytesIn: 100 * records, keyLookups: records, maxTimestamp: 9_999, tasks: n,
      keys: { calls: n, retries: 2 * n, hits: 3 * n, misses: 4 * n }, bytesOut: 7 * n,
    });
    expect(result.published?.rows).toBe(records);
  });

  it('reports progress as the share of ranges finished and their records, ending at the whole key space', async () => {
    const { jobs, run } = setup((tasks) => tasks.map((t) => resultOf(t, { records: 5 })));
    const seen: { records: number; done: number }[] = [];
    await run({ onProgress: (p) => seen.push(p) });
    const n = jobs.jobs[0]!.tasks.length;
    expect(seen).toHaveLength(n);
    expect(seen[0]).toEqual({ records: 5, done: 1 / n });
    expect(seen.at(-1)).toEqual({ records: 5 * n, done: 1 });
  });

  it('reads the driver\'s progress lines and nothing else as progress', () => {
    expect(sparkProgressOf('[ingest-replica progress] {"tasksDone": 3, "tasks": 8, "records": 1200}')).toEqual({ tasksDone: 3, tasks: 8, records: 1200 });
    for (const other of [
      '[ingest-replica range 3 attempt 0] {"level":30}', '[ingest-replica progress] {"tasksDone": -1, "tasks": 8, "records": 0}',
      '[ingest-replica progress] {"tasksDone": 1}', '[ingest-replica progress] {not json}', 'INFO progress 3/8',
    ]) expect(sparkProgressOf(other), other).toBeUndefined();
  });

  it('passes the caller\'s abort signal to the job', async () => {
    const { jobs, run } = setup((tasks) => tasks.map((t) => resultOf(t)));
    const controller = new AbortController();
    await run({ signal: controller.signal });
    expect(jobs.signals[0]).toBe(controller.signal);
  });

  it('fails with SparkJobError and discards when a range has no result', async () => {
    await expectFailure((tasks) => tasks.filter((t) => t.range.index !== 3).map((t) => resultOf(t)), SparkJobError, /no result for ranges 3/);
    await expectFailure(() => [], SparkJobError, /no result for ranges 0, 1/);
  });

  it('fails with SparkJobError when a range has two results', async () => {
    await expectFailure((tasks) => [...tasks.map((t) => resultOf(t)), resultOf(tasks[1]!, { attemptNumber: 1, taskAttemptId: 999 })], SparkJobError, /two results for range 1/);
  });

  it('fails with SparkJobError on a result for a range that was not planned', async () => {
    await expectFailure((tasks) => [...tasks.map((t) => resultOf(t)), { ...resultOf(tasks[0]!), range: tasks.length }], SparkJobError, /not planned/);
    await expectFailure((tasks) => tasks.map((t) => (t.range.index === 0 ? { ...resultOf(t), range: 0.5 } : resultOf(t))), SparkJobError, /not planned/);
  });

  it('fails with SparkJobError when a result lists a key that is not its attempt\'s', async () => {
    await expectFailure((tasks) => tasks.map((t) => {
      const result = resultOf(t, { quarantined: 1 });
      if (t.range.index !== 2) return result;
      // Range 2's winner lists the part of another attempt of the same range.
      const other = resultOf(t, { attemptNumber: 1, taskAttemptId: 555 });
      return { ...result, output: { ...result.output, files: other.output.files } };
    }), SparkJobError, /range 2's result lists .*a1-t555/);
    await expectFailure((tasks) => tasks.map((t) => {
      const result = resultOf(t, { quarantined: 1 });
      if (t.range.index !== 0) return result;
      const other = resultOf(tasks[1]!, { quarantined: 1 });
      return { ...result, output: { ...result.output, quarantineFiles: other.output.quarantineFiles } };
    }), SparkJobError, /range 0's result lists .*_quarantine/);
  });

  // Regression: the attempt check was a substring test, and token …-a0-t1 is a prefix of …-a0-t12.
  it('fails with SparkJobError when a result lists the key of an attempt whose token extends its own', async () => {
    await expectFailure((tasks) => tasks.map((t) => {
      if (t.range.index !== 0) return resultOf(t);
      const mine = resultOf(t, { taskAttemptId: 1 });
      const longer = resultOf(t, { taskAttemptId: 12 });
      expect(longer.attempt.startsWith(mine.attempt)).toBe(true);
      return { ...mine, output: longer.output };
    }), SparkJobError, /range 0's result lists/);
  });

  // Regression: keys outside the run folder once passed the check.
  it('fails with SparkJobError when a result lists a key outside the run folder', async () => {
    await expectFailure((tasks) => tasks.map((t) => {
      const result = resultOf(t);
      if (t.range.index !== 1) return result;
      const file = result.output.files[0]!;
      return { ...result, output: { ...result.output, files: [{ ...file, key: `elsewhere/part-${result.attempt}-00001.parquet` }] } };
    }), SparkJobError, /range 1's result lists elsewhere/);
  });

  it('fails with QuarantineLimitError when the tasks together quarantined more than maxQuarantined', async () => {
    // Each task is under the limit of 5; together they are over it.
    await expectFailure((tasks) => tasks.map((t) => resultOf(t, { quarantined: t.range.index < 3 ? 2 : 0 })), QuarantineLimitError, /more than 5/);
  });

  it('publishes at exactly maxQuarantined', async () => {
    const { sink, run } = setup((tasks) => tasks.map((t) => resultOf(t, { quarantined: t.range.index === 0 ? 5 : 0 })));
    const result = await run();
    expect(result.quarantined).toBe(5);
    expect(sink.commits).toHaveLength(1);
  });

  it('commits nothing when every range came back empty', async () => {
    const { sink, run } = setup((tasks) => tasks.map((t) => resultOf(t, { records: 0 })));
    const result = await run();
    expect(result.published).toBeUndefined();
    expect(result).toMatchObject({ records: 0, quarantined: 0, bytesOut: 0, maxTimestamp: null });
    expect(sink.commits).toEqual([]);
    expect(sink.calls.every((c) => c === `discard ${folder}`)).toBe(true);
  });

  it('publishes a window holding only quarantined records', async () => {
    const { sink, run } = setup((tasks) => tasks.map((t) => resultOf(t, { records: 0, quarantined: t.range.index === 0 ? 1 : 0 })));
    const result = await run();
    expect(sink.commits).toHaveLength(1);
    expect(result).toMatchObject({ records: 0, quarantined: 1, maxTimestamp: null });
  });

  it('rethrows a failed job and discards the folder', async () => {
    const { sink, run } = setup(() => Promise.reject(new SparkJobError('task 3 failed 4 times')));
    await expect(run()).rejects.toThrow(/task 3 failed 4 times/);
    expect(sink.calls).toEqual([`discard ${folder}`, `discard ${folder}`]);
  });

  it('fails when the published run holds a different row count than the tasks reported', async () => {
    const { sink, run } = setup((tasks) => tasks.map((t) => resultOf(t)));
    sink.extraRows = 1;
    await expect(run()).rejects.toThrow(SparkJobError);
  });

  it('leaves the folder to the settle step that abandoned the run when its claim is refused (no discard)', async () => {
    const { sink, run } = setup((tasks) => tasks.map((t) => resultOf(t, { records: 1 })));
    sink.refuseClaim = true;
    await expect(run()).rejects.toBeInstanceOf(PublicationRefusedError);
    expect(sink.calls).toEqual([`discard ${folder}`, 'commit']);
  });

  it('stops before committing when the fence throws', async () => {
    const { sink, run } = setup((tasks) => tasks.map((t) => resultOf(t)));
    await expect(run({ fence: () => Promise.reject(new Error('lease lost')) })).rejects.toThrow(/lease lost/);
    expect(sink.commits).toEqual([]);
  });
});
