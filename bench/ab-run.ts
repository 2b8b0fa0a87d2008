/**
 * `make bench-ab BASELINE=<dir>`: `run` end to end over the benchmark dataset, this build (A) against another
 * build of the CLI (B: a checkout of an earlier commit, built, e.g. with `git worktree add`), in pairs A B A B …
 * so that a change in the machine's load hits both alike. Prints each run's Node CPU-s per million records
 * (every thread), wall time and peak RSS, then the medians and the median of the pairwise ratios. It is how a
 * hot-path change is checked end to end before `make bench` re-measures everything (BENCHMARKS.md).
 *
 *   node --import ./bench/resolve-ts.ts bench/ab-run.ts --baseline <dir> [--pairs 3] [--tenth]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { localHome } from '../src/local/paths.js';
import { datasetRun } from './dataset-run.js';
import { endToEnd, type EndToEndResult } from './end-to-end.js';
import { loadAverage } from './processes.js';

const { values } = parseArgs({ options: { baseline: { type: 'string' }, pairs: { type: 'string', default: '3' }, tenth: { type: 'boolean', default: false } } });
const baseline = values.baseline;
const cli = baseline === undefined ? undefined : join(baseline, 'dist/src/cli/main.js');
if (cli === undefined || !existsSync(cli)) throw new Error(`--baseline must name a built checkout (no ${cli ?? 'baseline given'}): git worktree add <dir> <commit> && (cd <dir> && npm ci && npx tsc -p tsconfig.json)`);
// Both builds use this checkout's local stack (its certificates, its state), wherever the baseline lives.
process.env.INGEST_REPLICA_HOME ??= localHome();
const log = (line: string): void => console.log(`[ab ${new Date().toISOString().slice(11, 19)}] ${line}`);
const { stack, spec, aws, dks, watch, endTime } = await datasetRun(values.tenth, log);
const perMillion = (r: EndToEndResult): number => (r.cpuSeconds / r.records) * 1e6;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const results: Record<'A' | 'B', EndToEndResult[]> = { A: [], B: [] };
for (let pair = 1; pair <= Number(values.pairs); pair += 1) {
  for (const side of ['A', 'B'] as const) {
    const load = loadAverage()[0];
    const r = await endToEnd({
      stack, aws, collections: spec.collections, endTime, concurrency: 2, scanConcurrency: 2, label: `ab-${side}`, watch,
      args: ['--engine', 'single'], ...(side === 'B' ? { cli } : {}),
    }, dks.read);
    results[side].push(r);
    log(`pair ${pair} ${side}: ${r.records} records, ${perMillion(r).toFixed(1)} Node CPU-s per 1M, ${r.seconds.toFixed(1)} s, peak RSS ${Math.round(r.maxRssMiB)} MiB, ${(r.minorFaults / r.records).toFixed(2)} page faults per record, load ${load.toFixed(2)}`);
  }
}
const ratios = results.A.map((a, i) => perMillion(a) / perMillion(results.B[i]!));
for (const side of ['A', 'B'] as const) {
  const rs = results[side];
  log(`${side} (${side === 'A' ? 'this build' : baseline}): median ${median(rs.map(perMillion)).toFixed(1)} Node CPU-s per 1M records, ${median(rs.map((r) => r.seconds)).toFixed(1)} s, peak RSS ${Math.round(median(rs.map((r) => r.maxRssMiB)))} MiB`);
}
log(`A/B, pair by pair: ${ratios.map((x) => x.toFixed(3)).join(', ')}; median ${median(ratios).toFixed(3)}`);
