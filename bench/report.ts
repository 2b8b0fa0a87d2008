import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Dataset } from './dataset.js';
import type { MachineInfo } from './machine.js';
import type { ThreadProfile } from './profile.js';
import { fmt1, fmtInt, median, pct } from './stats.js';

/** One run of one measurement. `cpuSeconds` is the measured Node process (every thread). */
export interface Sample {
  readonly records: number;
  /** Envelope bytes read (cell values). */
  readonly bytes: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly maxRssMiB: number;
  /** CPU seconds of the HBase JVM and moto during the run. */
  readonly others: Record<string, number | undefined>;
  /** 1-minute load average at the start and at the end. */
  readonly load: readonly [number, number];
  readonly dksCalls?: number;
  readonly distinctKeys?: number;
  readonly dksServerCalls?: number;
  readonly bytesOut?: number;
}

export interface BenchResults {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly session: string;
  readonly runs: number;
  readonly loadBefore: number;
  readonly machine: MachineInfo;
  readonly dataset: Dataset;
  readonly samples: Readonly<Record<string, readonly Sample[]>>;
  /** One extra `run` (defaults) under `--cpu-prof`. */
  readonly profile?: { readonly records: number; readonly seconds: number; readonly threads: readonly ThreadProfile[] };
}

const START = '<!-- bench:results:start -->';
const END = '<!-- bench:results:end -->';
const FILE = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));

const rate = (s: Sample): number => s.records / s.seconds;
const perCore = (s: Sample): number => s.records / s.cpuSeconds;
const cores = (s: Sample, name: string): number => (s.others[name] ?? Number.NaN) / s.seconds;

const ROWS: readonly [string, string][] = [
  ['read-p2', '(1) read ceiling: scan + discard, 2 collections × 2 regions at once'],
  ['processing', '(2) processing ceiling: cells in memory → … → Parquet → local S3'],
  ['e2e-p2', '(3) `run` end to end, defaults (concurrency 2, scan concurrency 2)'],
  ['e2e-p2-tenth', '(4) `run` over a 10% window (≈100k records), defaults'],
  ['read-p1', '(6) read ceiling, 1 collection × 1 region at a time'],
  ['e2e-p1', '(6) `run` end to end, concurrency 1, scan concurrency 1'],
  ['read-p2-batch3000', 'read ceiling, scanner batch 3000 cells (1 run)'],
  ['read-p2-batch5000', 'read ceiling, scanner batch 5000 cells (1 run)'],
];

function table(results: BenchResults): string[] {
  const lines = [
    '| measurement | records | records/s (median) | MB/s in | Node CPU-s | Node cores | HBase JVM cores | moto cores | peak RSS MiB | records/s, every run |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const [name, label] of ROWS) {
    const samples = results.samples[name];
    if (samples === undefined || samples.length === 0) continue;
    const m = (f: (s: Sample) => number): number => median(samples.map(f));
    lines.push(`| ${label} | ${fmtInt(m((s) => s.records))} | **${fmtInt(m(rate))}** | ${fmtInt(m((s) => s.bytes / s.seconds / 1e6))} | ${fmt1(m((s) => s.cpuSeconds))} | ${m((s) => s.cpuSeconds / s.seconds).toFixed(2)} | ${m((s) => cores(s, 'hbase')).toFixed(2)} | ${m((s) => cores(s, 'moto')).toFixed(2)} | ${fmtInt(Math.max(...samples.map((s) => s.maxRssMiB)))} | ${samples.map((s) => fmtInt(rate(s))).join(', ')} |`);
  }
  return lines;
}

export function renderResults(results: BenchResults): string {
  const s = results.samples;
  const med = (name: string, f: (x: Sample) => number): number => median((s[name] ?? []).map(f));
  const { machine, dataset } = results;
  const loads = Object.values(s).flat().flatMap((x) => x.load);
  const envelope = med('read-p2', (x) => x.bytes / x.records);
  const processingPerCore = med('processing', perCore);
  const processingWithMoto = med('processing', (x) => x.records / (x.cpuSeconds + (x.others.moto ?? 0)));
  const e2e = med('e2e-p2', rate);
  const readCeiling = med('read-p2', rate);
  const toRead = e2e / readCeiling;
  const toProcessing = e2e / med('processing', rate);
  const e2ePerCore = med('e2e-p2', perCore);
  const rssTenth = Math.max(...(s['e2e-p2-tenth'] ?? []).map((x) => x.maxRssMiB));
  const rssFull = Math.max(...(s['e2e-p2'] ?? []).map((x) => x.maxRssMiB));
  const dksRuns = [...(s['e2e-p2'] ?? []), ...(s['e2e-p2-tenth'] ?? []), ...(s['e2e-p1'] ?? [])];
  const dksEqual = dksRuns.every((x) => x.dksCalls === x.distinctKeys);
  const serverChecks = dksRuns.map((x) => x.dksServerCalls).filter((n): n is number => n !== undefined && n >= 0);
  const verdict = (ok: boolean): string => (ok ? '**met**' : '**not met**');
  return [
    `Measured ${results.startedAt.slice(0, 16).replace('T', ' ')}–${results.finishedAt.slice(11, 16)} UTC (session ${results.session}), median of ${results.runs} runs, interleaved round by round.`,
    `Load average (1 min) before the first measurement: ${results.loadBefore.toFixed(2)}; during measurements ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} (this counts the benchmark's own processes, ~1.5–2 while \`run\` and HBase are busy; the machine is shared, and other sessions' tests ran at times).`,
    '',
    `Machine: ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}; Node ${machine.node}; HBase ${machine.hbase} (${machine.java}, heap ${machine.hbaseHeap}) with its REST server; moto ${machine.moto}; the local DKS.`,
    '',
    `Dataset: ${dataset.spec.collections.length} collections × ${fmtInt(dataset.spec.recordsPerCollection)} records = ${fmtInt(dataset.totalRecords)} records (${fmtInt(dataset.seeded.reduce((n, c) => n + c.cells, 0))} cells: one record in ten has a superseded older version), ${dataset.distinctKeys} distinct data keys (${dataset.spec.keysPerCollection} per collection), ${dataset.spec.regions} regions per table, envelopes ${fmtInt(envelope)} bytes on average; ${dataset.fresh ? `seeded in this session in ${fmtInt(dataset.seedSeconds)} s` : `reused (seeded ${dataset.seededAt.slice(0, 16).replace('T', ' ')} in ${fmtInt(dataset.seedSeconds)} s)`}.`,
    '',
    ...table(results),
    '',
    'Node CPU-s counts every thread of the measured process (the encoder thread too); cores = CPU-s ÷ wall seconds. MB/s = envelope bytes read ÷ wall seconds. The processing ceiling\'s RSS includes its 20 000 replayed cells (~50 MiB).',
    '',
    '| target | figure | verdict |',
    '|---|---|---|',
    `| processing ≥ 30k records/s per core | ${fmtInt(processingPerCore)} records per Node CPU-second (${fmtInt(processingWithMoto)} counting moto's CPU for the uploads too) | ${verdict(processingPerCore >= 30_000)} |`,
    `| end to end ≥ 80% of the read ceiling | ${fmtInt(e2e)} ÷ ${fmtInt(readCeiling)} records/s = ${pct(toRead)} | ${verdict(toRead >= 0.8)} |`,
    `| peak RSS ≤ 512 MiB, flat 100k → 1M | ${fmtInt(rssTenth)} MiB at ≈${fmtInt(med('e2e-p2-tenth', (x) => x.records))} records, ${fmtInt(rssFull)} MiB at ${fmtInt(med('e2e-p2', (x) => x.records))} records | ${verdict(rssFull <= 512 && rssTenth <= 512 && rssFull <= rssTenth * 1.1)} |`,
    `| DKS unwraps = distinct keys | ${dksRuns.map((x) => `${x.dksCalls}/${x.distinctKeys}`).join(', ')} (calls/distinct keys, every \`run\`)${serverChecks.length > 0 ? `; the DKS's own counter moved by ${[...new Set(serverChecks)].join(', ')} during those runs (shared with other sessions)` : ''} | ${verdict(dksEqual)} |`,
    '',
    `Ratios: end to end is ${pct(toRead)} of the read ceiling and ${pct(toProcessing)} of the processing ceiling's wall rate; it processes ${fmtInt(e2ePerCore)} records per Node CPU-second against ${fmtInt(processingPerCore)} in the processing ceiling (the difference is the HBase REST client: HTTP, protobuf, row assembly).`,
    `Scaling (concurrency 2 vs 1): end to end ×${(e2e / med('e2e-p1', rate)).toFixed(2)}, read ceiling ×${(readCeiling / med('read-p1', rate)).toFixed(2)}.`,
    `Whole machine during \`run\` (defaults): Node ${med('e2e-p2', (x) => x.cpuSeconds / x.seconds).toFixed(2)} + HBase JVM ${med('e2e-p2', (x) => cores(x, 'hbase')).toFixed(2)} + moto ${med('e2e-p2', (x) => cores(x, 'moto')).toFixed(2)} cores of ${machine.cores}; during the read ceiling: Node ${med('read-p2', (x) => x.cpuSeconds / x.seconds).toFixed(2)} + HBase JVM ${med('read-p2', (x) => cores(x, 'hbase')).toFixed(2)}.`,
    ...profileTables(results),
  ].join('\n');
}

function profileTables(results: BenchResults): string[] {
  const profile = results.profile;
  if (profile === undefined) return [];
  const lines = [
    '',
    `CPU profile of one more \`run\` (defaults, ${fmtInt(profile.records)} records in ${fmt1(profile.seconds)} s under \`--cpu-prof\`, which slows it), by stage:`,
  ];
  for (const thread of profile.threads) {
    lines.push('', `| ${thread.thread}: stage | ms | share | µs per record |`, '|---|--:|--:|--:|');
    for (const row of thread.rows) {
      if (row.ms < thread.totalMs * 0.005) continue;
      lines.push(`| ${row.stage} | ${fmtInt(row.ms)} | ${pct(row.ms / thread.totalMs)} | ${((row.ms * 1000) / profile.records).toFixed(1)} |`);
    }
    lines.push(`| total sampled | ${fmtInt(thread.totalMs)} | 100% | ${((thread.totalMs * 1000) / profile.records).toFixed(1)} |`);
  }
  return lines;
}

/** Replaces the results block of BENCHMARKS.md (creating the file around it if needed); returns its path. */
export function updateBenchmarksFile(results: BenchResults): string {
  const block = `${START}\n${renderResults(results)}\n${END}`;
  const text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`;
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  const next = start >= 0 && end > start ? `${text.slice(0, start)}${block}${text.slice(end + END.length)}` : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(FILE, next);
  return FILE;
}
