/**
 * `make bench` (Spark section, scripts/bench.sh runs it after bench/main.ts): the Spark engine against the
 * in-process one over the same window, on the local stack, one collection seeded for it. Prints figures
 * (and writes the raw ones to .local/bench/spark-….json); it asserts nothing.
 *
 *   node --import ./bench/resolve-ts.ts bench/spark.ts [--records 400000] [--keys 16] [--runs 1] [--tasks-per-core 1]
 *
 * Measured per run: wall time, records, DKS calls (the summary's), the Spark tasks, and Node CPU:
 * - single: the step process's user+system CPU (GNU time);
 * - spark: the sum of every worker's own CPU (each logs it in "range worker finished"). The step process's
 *   own plan and commit CPU and Spark's JVM/Python CPU are not Node per-record work and are left out.
 * Start-up costs: a Node worker's start-up is timed as `scan-range` on empty input (it loads the CLI and
 * exits); Spark's job overhead is the wall time not covered by the tasks' work: wall − Σ(range work)/cores.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { localHome, stackFiles } from '../src/local/paths.js';
import { readStackState } from '../src/local/stack-state.js';
import { benchAws } from './aws.js';
import { DEFAULT_DATASET, ensureDataset, type DatasetSpec } from './dataset.js';
import { dksDecryptCounter } from './dks.js';
import { endToEnd, type EndToEndResult } from './end-to-end.js';
import { loadAverage } from './processes.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '400000' },
    keys: { type: 'string', default: '16' },
    runs: { type: 'string', default: '1' },
    'tasks-per-core': { type: 'string', default: '1' },
  },
});
const log = (line: string): void => console.log(`[bench-spark ${new Date().toISOString().slice(11, 19)}] ${line}`);

const stack = readStackState(stackFiles(localHome()).state);
if (stack === undefined) throw new Error('the local stack is not running here: run `./bin/ingest-replica local up` (make bench does)');

interface WorkerLine { readonly cpuMs: number; readonly maxRssMiB: number }
interface RangeLine { readonly durationMs: number; readonly records: number }

/** The JSON lines of one message out of a step log. */
function linesOf<T>(stepLog: string, msg: string): T[] {
  return stepLog.split('\n').filter((l) => l.startsWith('{') && l.includes(`"msg":"${msg}"`)).map((l) => JSON.parse(l) as T);
}

interface Figures {
  readonly name: string;
  readonly cores: number;
  readonly records: number;
  readonly seconds: number;
  readonly nodeCpuSeconds: number;
  readonly usPerRecord: number;
  readonly recordsPerSecond: number;
  readonly dksCalls: number;
  readonly tasks: number;
  readonly workerPeakRssMiB: number;
  readonly rangeWorkSeconds: number;
  readonly sparkOverheadSeconds: number;
}

function figures(name: string, cores: number, r: EndToEndResult): Figures {
  const workers = linesOf<WorkerLine>(r.log, 'range worker finished');
  const ranges = linesOf<RangeLine>(r.log, 'range staged');
  const spark = workers.length > 0;
  const nodeCpuSeconds = spark ? workers.reduce((n, w) => n + w.cpuMs, 0) / 1000 : r.cpuSeconds;
  const rangeWorkSeconds = ranges.reduce((n, x) => n + x.durationMs, 0) / 1000;
  return {
    name, cores, records: r.records, seconds: r.seconds, nodeCpuSeconds,
    usPerRecord: (nodeCpuSeconds * 1e6) / r.records,
    recordsPerSecond: r.records / r.seconds,
    dksCalls: r.collections.reduce((n, c) => n + c.dksCalls, 0),
    tasks: workers.length,
    workerPeakRssMiB: spark ? Math.max(...workers.map((w) => w.maxRssMiB)) : r.maxRssMiB,
    rangeWorkSeconds,
    sparkOverheadSeconds: spark ? r.seconds - rangeWorkSeconds / cores : 0,
  };
}

/** A Node worker's start-up: the CLI loaded, its input refused, the process gone. */
function workerStartupSeconds(): number {
  const times: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const started = performance.now();
    spawnSync(process.execPath, ['--enable-source-maps', join(new URL('..', import.meta.url).pathname, 'dist/src/cli/main.js'), 'scan-range'], { input: '{}', stdio: ['pipe', 'ignore', 'ignore'] });
    times.push((performance.now() - started) / 1000);
  }
  return times.sort((a, b) => a - b)[2]!;
}

const spec: DatasetSpec = { ...DEFAULT_DATASET, collections: ['bench_spark:records'], recordsPerCollection: Number(values.records), keysPerCollection: Number(values.keys) };
const aws = benchAws(stack);
const dks = dksDecryptCounter(stack);
try {
  const dataset = await ensureDataset(stack, spec, log);
  const perCore = ['--spark-tasks-per-core', values['tasks-per-core']];
  const engines = [
    { name: 'single', cores: 1, args: ['--engine', 'single'] },
    { name: 'spark-1core', cores: 1, args: ['--engine', 'spark', '--spark-master', 'local[1,4]', '--spark-executor-cores', '1', ...perCore] },
    { name: 'spark-2cores', cores: 2, args: ['--engine', 'spark', '--spark-master', 'local[2,4]', '--spark-executor-cores', '2', ...perCore] },
  ];
  const all: Figures[] = [];
  for (let round = 1; round <= Number(values.runs); round += 1) {
    for (const engine of engines) {
      const r = await endToEnd({ stack, aws, collections: spec.collections, endTime: spec.until, concurrency: 2, scanConcurrency: 2, label: `spark-${engine.name}`, watch: {}, args: engine.args }, dks.read);
      const f = figures(engine.name, engine.cores, r);
      all.push(f);
      log(`${f.name}: ${f.records} records in ${f.seconds.toFixed(1)} s = ${Math.round(f.recordsPerSecond)}/s; Node ${f.nodeCpuSeconds.toFixed(1)} CPU-s = ${f.usPerRecord.toFixed(1)} µs/record; tasks ${f.tasks}; DKS calls ${f.dksCalls} (${dataset.distinctKeys} keys); worker peak RSS ${f.workerPeakRssMiB} MiB; range work ${f.rangeWorkSeconds.toFixed(1)} s; Spark overhead ${f.sparkOverheadSeconds.toFixed(1)} s; load ${loadAverage()[0].toFixed(2)}`);
    }
  }
  const startup = workerStartupSeconds();
  log(`Node worker start-up (median of 5): ${startup.toFixed(2)} s`);
  const single = all.find((f) => f.name === 'single')!;
  for (const f of all.filter((x) => x.name !== 'single')) log(`${f.name}: Node CPU per record ${(f.usPerRecord / single.usPerRecord).toFixed(2)}× the single engine's`);
  const dir = join(localHome(), 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `spark-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ dataset, workerStartupSeconds: startup, runs: all }, null, 2)}\n`);
  log(`raw figures: ${file}`);
} finally {
  aws.close();
  await dks.close();
}
