/**
 * Read ceiling: scan the collections through HBase REST exactly as the step does (same client, protobuf,
 * scanner batch, row assembly, collections and region ranges in parallel as the step's two settings say)
 * and discard the cells. Nothing downstream: the most `run` could read on this machine.
 *
 *   node --import ./bench/resolve-ts.ts bench/read-ceiling.ts '<json ReadCeilingRequest>'
 * Prints one JSON line (ReadCeilingResult).
 */
import pLimit from 'p-limit';
import { HBaseRestSource } from '../src/hbase/rest-adapter.js';

export interface ReadCeilingRequest {
  readonly hbaseRestUrl: string;
  readonly collections: readonly string[];
  readonly window: { readonly start: number; readonly end: number };
  readonly concurrency: number;
  readonly scanConcurrency: number;
  readonly batchCells?: number;
}

export interface ReadCeilingResult {
  readonly records: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly maxRssMiB: number;
}

export async function readCeiling(request: ReadCeilingRequest): Promise<ReadCeilingResult> {
  const hbase = new HBaseRestSource({ url: request.hbaseRestUrl, ...(request.batchCells ? { batchCells: request.batchCells } : {}) });
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let records = 0;
  let bytes = 0;
  try {
    const collections = pLimit(request.concurrency);
    await Promise.all(request.collections.map((table) => collections(async () => {
      const ranges = await hbase.regions(table);
      const scans = pLimit(request.scanConcurrency);
      await Promise.all(ranges.map((range) => scans(async () => {
        for await (const cells of hbase.scan({ table, range, window: request.window })) {
          records += cells.length;
          for (const cell of cells) bytes += cell.value.length;
        }
      })));
    })));
  } finally {
    await hbase.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { records, bytes, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMiB: process.resourceUsage().maxRSS / 1024 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const request = JSON.parse(process.argv[2] ?? '{}') as ReadCeilingRequest;
  console.log(JSON.stringify(await readCeiling(request)));
}
