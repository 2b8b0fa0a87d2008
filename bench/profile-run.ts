/**
 * `make bench-profile`: one `run` end to end over the benchmark dataset under the V8 profiler, and where its CPU
 * went: per thread, CPU-µs per record by stage (bench/profile.ts, as `make bench` reports it) and the functions
 * with the most self time. The quick look between `make bench-ab` pairs and a full `make bench`; profiling slows
 * the run, so its figures are for comparing stages, not for the results table.
 *
 *   node --import ./bench/resolve-ts.ts bench/profile-run.ts [--tenth] [--top 25]
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { localHome } from '../src/local/paths.js';
import { datasetRun } from './dataset-run.js';
import { endToEnd } from './end-to-end.js';
import { selfTimes, summariseProfiles } from './profile.js';

const { values } = parseArgs({ options: { tenth: { type: 'boolean', default: false }, top: { type: 'string', default: '25' } } });
const log = (line: string): void => console.log(`[profile ${new Date().toISOString().slice(11, 19)}] ${line}`);
const { stack, spec, aws, dks, watch, endTime } = await datasetRun(values.tenth, log);
const dir = join(localHome(), 'bench', 'profile-run');
rmSync(dir, { recursive: true, force: true });
try {
  const r = await endToEnd({
    stack, aws, collections: spec.collections, endTime, concurrency: 2, scanConcurrency: 2, label: 'profile', watch,
    args: ['--engine', 'single'], nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
  }, dks.read);
  log(`${r.records} records in ${r.seconds.toFixed(1)} s, ${((r.cpuSeconds / r.records) * 1e6).toFixed(1)} Node CPU-µs per record (profiled), profiles in ${dir}`);
  const perRecord = (ms: number): string => ((ms * 1000) / r.records).toFixed(2).padStart(6);
  for (const thread of summariseProfiles(dir)) {
    console.log(`\n${thread.thread}: ${perRecord(thread.totalMs)} µs per record`);
    for (const row of thread.rows) console.log(`  ${perRecord(row.ms)}  ${row.stage}`);
  }
  const top = Number(values.top);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort()) {
    console.log(`\nself time, ${file}:`);
    for (const f of selfTimes(JSON.parse(readFileSync(join(dir, file), 'utf8'))).slice(0, top)) console.log(`  ${perRecord(f.ms)}  ${f.name}`);
  }
} finally {
  aws.close();
  await dks.close();
}
