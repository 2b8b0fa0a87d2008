/**
 * `make bench` (scripts/bench.sh): seeds the benchmark dataset in the local HBase (or reuses it), then
 * measures, each as the median of `--runs` runs interleaved round by round (so load changes hit every
 * measurement alike): the read ceiling, the processing ceiling, `run` end to end at the default parallelism,
 * over a 10% window (memory at ~100k records) and at parallelism 1; then writes the figures to
 * BENCHMARKS.md (between its results markers) and the raw samples to .local/bench/.
 *
 *   node --import ./bench/resolve-ts.ts bench/main.ts [--runs 3] [--records-per-collection 250000]
 *        [--collections 4] [--keys 16] [--processing-records 400000] [--max-load 1.5] [--wait-minutes 20]
 *   node --import ./bench/resolve-ts.ts bench/main.ts --render .local/bench/results-….json   (figures only)
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { localHome, stackFiles } from '../src/local/paths.js';
import { readStackState } from '../src/local/stack-state.js';
import { benchAws } from './aws.js';
import { processingChild, readCeilingChild } from './children.js';
import { DEFAULT_DATASET, ensureDataset, type DatasetSpec } from './dataset.js';
import { dksDecryptCounter } from './dks.js';
import { endToEnd } from './end-to-end.js';
import { machineInfo } from './machine.js';
import { loadAverage, probeCpu, stackPids } from './processes.js';
import { summariseProfiles } from './profile.js';
import { updateBenchmarksFile, type BenchResults, type Sample } from './report.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    'records-per-collection': { type: 'string' },
    collections: { type: 'string' },
    keys: { type: 'string' },
    'processing-records': { type: 'string', default: '400000' },
    'max-load': { type: 'string', default: '1.5' },
    'wait-minutes': { type: 'string', default: '20' },
    'no-report': { type: 'boolean', default: false },
    render: { type: 'string' },
  },
});

// `--render <results.json>`: rewrite BENCHMARKS.md's figures from saved samples, measuring nothing.
if (values.render !== undefined) {
  console.log(updateBenchmarksFile(JSON.parse(readFileSync(values.render, 'utf8')) as BenchResults));
  process.exit(0);
}

const log = (line: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const num = (text: string | undefined, fallback: number): number => (text === undefined ? fallback : Number(text));

const stack = readStackState(stackFiles(localHome()).state);
if (stack === undefined) throw new Error('the local stack is not running here: run `./bin/ingest-replica local up` (make bench does)');

const names = DEFAULT_DATASET.collections;
const count = num(values.collections, names.length);
const spec: DatasetSpec = {
  ...DEFAULT_DATASET,
  collections: Array.from({ length: count }, (_, i) => names[i] ?? `bench_extra${i + 1}:records`),
  recordsPerCollection: num(values['records-per-collection'], DEFAULT_DATASET.recordsPerCollection),
  keysPerCollection: num(values.keys, DEFAULT_DATASET.keysPerCollection),
};
const runs = num(values.runs, 3);
// These figures are the in-process engine's (the Spark engine's are bench/spark.ts's).
const SINGLE = ['--engine', 'single'] as const;
const watch = stackPids(stack);

async function waitForQuiet(maxLoad: number, minutes: number): Promise<number> {
  const deadline = Date.now() + minutes * 60_000;
  for (;;) {
    const [one] = loadAverage();
    if (one <= maxLoad) return one;
    if (Date.now() >= deadline) {
      log(`load average still ${one.toFixed(2)} after ${minutes} min: measuring anyway (noted in the results)`);
      return one;
    }
    log(`load average ${one.toFixed(2)} > ${maxLoad}: waiting for other work to finish…`);
    await new Promise((r) => setTimeout(r, 30_000));
  }
}

const session = `s${Date.now().toString(36)}`;
const aws = benchAws(stack);
const dks = dksDecryptCounter(stack);
const samples: Record<string, Sample[]> = {};
const add = (name: string, sample: Sample): void => {
  (samples[name] ??= []).push(sample);
  const rate = sample.records / sample.seconds;
  log(`${name}: ${sample.records} records in ${sample.seconds.toFixed(1)} s = ${Math.round(rate)}/s; node ${sample.cpuSeconds.toFixed(1)} CPU-s, rss ${Math.round(sample.maxRssMiB)} MiB, load ${sample.load.map((l) => l.toFixed(2)).join('→')}`);
};

try {
  const startedAt = new Date().toISOString();
  const loadBefore = await waitForQuiet(num(values['max-load'], 1.5), num(values['wait-minutes'], 20));
  const dataset = await ensureDataset(stack, spec, log);
  const fullWindow = { start: 0, end: spec.until };
  // About a tenth of every collection: cell timestamps are spread evenly over [from, until).
  const tenthEnd = spec.from + Math.round((spec.until - spec.from) / 10);

  const read = async (name: string, concurrency: number, scanConcurrency: number, batchCells?: number): Promise<void> => {
    const load0 = loadAverage()[0];
    const cpu = probeCpu(watch);
    const r = await readCeilingChild({ hbaseRestUrl: stack.hbaseRestUrl, collections: spec.collections, window: fullWindow, concurrency, scanConcurrency, ...(batchCells ? { batchCells } : {}) });
    add(name, { ...r, others: cpu.stop(), load: [load0, loadAverage()[0]] });
  };
  const processing = async (): Promise<void> => {
    const prefix = `bench/${session}/processing-${Date.now().toString(36)}`;
    const load0 = loadAverage()[0];
    const cpu = probeCpu(watch);
    try {
      const r = await processingChild({
        stack, sampleFrom: spec.collections[0]!, sampleCells: 20_000,
        records: Math.ceil(num(values['processing-records'], 400_000) / spec.collections.length),
        collections: spec.collections, concurrency: 2, scanConcurrency: 2, regions: spec.regions, batchCells: 1000, outputPrefix: prefix,
      });
      add('processing', { records: r.records, bytes: r.bytesIn, seconds: r.seconds, cpuSeconds: r.cpuSeconds, maxRssMiB: r.maxRssMiB, others: cpu.stop(), load: [load0, loadAverage()[0]], dksCalls: r.dksCalls, distinctKeys: r.distinctKeysInSample });
    } finally {
      await aws.deleteOutput(prefix);
    }
  };
  const e2e = async (name: string, concurrency: number, scanConcurrency: number, endTime: number): Promise<void> => {
    const load0 = loadAverage()[0];
    const r = await endToEnd({ stack, aws, collections: spec.collections, endTime, concurrency, scanConcurrency, label: `${session}-${name}`, watch, args: SINGLE }, dks.read);
    add(name, {
      records: r.records, bytes: r.bytesIn, seconds: r.seconds, cpuSeconds: r.cpuSeconds, maxRssMiB: r.maxRssMiB, others: r.others,
      load: [load0, loadAverage()[0]], dksCalls: r.collections.reduce((n, c) => n + c.dksCalls, 0), distinctKeys: dataset.distinctKeys,
      ...(r.dksServerCalls !== undefined ? { dksServerCalls: r.dksServerCalls } : {}), bytesOut: r.bytesOut,
    });
  };

  for (let round = 1; round <= runs; round += 1) {
    log(`round ${round}/${runs}`);
    await read('read-p2', 2, 2);
    await processing();
    await e2e('e2e-p2', 2, 2, spec.until);
    await e2e('e2e-p2-tenth', 2, 2, tenthEnd);
    await read('read-p1', 1, 1);
    await e2e('e2e-p1', 1, 1, spec.until);
  }
  // Indicative, one run each: larger scanner batches (the step's default is 1000 cells per response).
  for (const batch of [3000, 5000]) await read(`read-p2-batch${batch}`, 2, 2, batch);
  // Where the CPU goes: one more `run` under the V8 profiler (not in the medians: profiling slows it).
  const profileDir = join(localHome(), 'bench', `profile-${session}`);
  rmSync(profileDir, { recursive: true, force: true });
  log(`profiling one more run (cpu profiles in ${profileDir})`);
  const profiled = await endToEnd({ stack, aws, collections: spec.collections, endTime: spec.until, concurrency: 2, scanConcurrency: 2, label: `${session}-profile`, watch, args: SINGLE, nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] }, dks.read);
  const profile = { records: profiled.records, seconds: profiled.seconds, threads: summariseProfiles(profileDir) };

  const results: BenchResults = {
    startedAt, finishedAt: new Date().toISOString(), session, runs, loadBefore,
    machine: await machineInfo(stack.hbaseRestUrl, watch.hbase), dataset, samples, profile,
  };
  const dir = join(localHome(), 'bench');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `results-${startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  log(`raw samples: ${file}`);
  if (!values['no-report']) log(`figures written to ${updateBenchmarksFile(results)}`);
} finally {
  await aws.deleteOutput(`bench/${session}`).catch(() => undefined);
  aws.close();
  await dks.close();
}
