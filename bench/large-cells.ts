/**
 * `make bench-memory`: peak RSS of the step over large cells (issue 16.3). One collection of ~200 MB of
 * envelopes: 150 records of ~1 MB documents and 10 of ~3 MB (over the `--max-record-size 2MiB` given to the
 * run, so quarantined still encrypted), among 2 000 ordinary ones. The built CLI's `run` (bench/end-to-end.ts,
 * launched as steps/run-step.sh launches it) reads it twice per round: with the scanner's byte budget at its
 * default and with it effectively off (1 GiB, i.e. 1000 cells per response as before the budget existed).
 *
 *   node --import ./bench/resolve-ts.ts bench/large-cells.ts [--runs 3]
 */
import { parseArgs } from 'node:util';
import { HBaseAdmin } from '../src/local/hbase-process.js';
import { localHome, stackFiles } from '../src/local/paths.js';
import { localSeedPorts } from '../src/local/seeder/run-seed.js';
import { readStackState } from '../src/local/stack-state.js';
import { benchAws } from './aws.js';
import { bulkSeed } from './bulk-seed.js';
import { endToEnd, type EndToEndResult } from './end-to-end.js';
import { loadAverage } from './processes.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);
const COLLECTION = 'bench_large:cells';
const RECORDS = 2160;
const MB = 1024 * 1024;
/** Every 14th record is ~1 MB, every 216th ~3 MB (over the run's maximum), the rest ordinary (~1.3 KB). */
const documentLength = (index: number): number => (index % 216 === 5 ? 3 * MB : index % 14 === 0 ? MB : 1300);

const log = (line: string): void => console.log(`[bench-memory ${new Date().toISOString().slice(11, 19)}] ${line}`);
const stack = readStackState(stackFiles(localHome()).state);
if (stack === undefined) throw new Error('the local stack is not running here: run `./bin/ingest-replica local up` (make bench-memory does)');

const space = { seed: 'bench-large-cells', collection: COLLECTION, from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 1, 1) };
const admin = new HBaseAdmin(stack.hbaseAdminUrl);
await admin.deleteTable(COLLECTION);
const ports = localSeedPorts(stack);
const t0 = performance.now();
const seeded = await bulkSeed(ports, { collection: COLLECTION, space, records: RECORDS, keys: 4, regions: 2, documentLength }).finally(() => ports.close());
await admin.flush(COLLECTION);
log(`seeded ${seeded.records} records (${seeded.cells} cells) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

const aws = benchAws(stack);
const variants = { 'byte budget 16 MiB (default)': [], 'byte budget off (1 GiB)': ['--scanner-batch-bytes', '1GiB'] } as const;
const results: Record<string, EndToEndResult[]> = {};
try {
  for (let round = 1; round <= RUNS; round += 1) {
    for (const [name, extra] of Object.entries(variants)) {
      const r = await endToEnd({
        stack, aws, collections: [COLLECTION], endTime: space.until, concurrency: 2, scanConcurrency: 2,
        label: `large-${round}-${name.startsWith('byte budget off') ? 'off' : 'on'}`, watch: {},
        args: ['--engine', 'single', '--max-record-size', '2MiB', ...extra],
      }, async () => undefined);
      (results[name] ??= []).push(r);
      const c = r.collections[0]!;
      log(`${name}: ${c.records} records, ${c.quarantined} quarantined, ${(c.bytesIn / MB).toFixed(0)} MB in, ${r.seconds.toFixed(1)} s, peak RSS ${Math.round(r.maxRssMiB)} MiB, load ${loadAverage()[0]!.toFixed(2)}`);
    }
  }
} finally {
  await admin.deleteTable(COLLECTION);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(`\n| scanner | records | quarantined (too-large) | MB of envelopes read | peak RSS MiB (median of ${RUNS}) | peak RSS, every run |`);
console.log('|---|--:|--:|--:|--:|---|');
for (const [name, rs] of Object.entries(results)) {
  const c = rs[0]!.collections[0]!;
  console.log(`| ${name} | ${c.records} | ${c.quarantined} | ${(c.bytesIn / MB).toFixed(0)} | **${Math.round(median(rs.map((r) => r.maxRssMiB)))}** | ${rs.map((r) => Math.round(r.maxRssMiB)).join(', ')} |`);
}
