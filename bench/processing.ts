/**
 * Processing ceiling: the step's own pipeline (runCollection: envelope → data key through the cache and
 * the local DKS → AES-CTR → UTF-8/JSON validation → Parquet on the encoder thread → S3 multipart to the
 * local endpoint → manifest) with HBase replaced by cells held in memory. The ports come from the
 * production wiring (buildStepGraph) so the defaults measured are the CLI's.
 *
 *   node --import ./bench/resolve-ts.ts bench/processing.ts '<json ProcessingRequest>'
 * Prints one JSON line (ProcessingResult). CPU time counts every thread of this process (the encoder too).
 */
import pLimit from 'p-limit';
import { loadStepConfig } from '../src/config/step-config.js';
import { HBaseRestSource } from '../src/hbase/rest-adapter.js';
import { localHome } from '../src/local/paths.js';
import type { StackState } from '../src/local/stack-state.js';
import { silentLogger } from '../src/shared/logger.js';
import { collectionFromName } from '../src/collections/index.js';
import { runCollection } from '../src/step/collection-run.js';
import type { Cell, HBaseSource, KeyRange, ScanRequest } from '../src/step/ports.js';
import { buildStepGraph } from '../src/wiring/step-graph.js';

export interface ProcessingRequest {
  readonly stack: StackState;
  /** Where the sample of cells is read from (untimed). */
  readonly sampleFrom: string;
  readonly sampleCells: number;
  /** Records pushed through the pipeline (the sample, cycled), per collection. */
  readonly records: number;
  readonly collections: readonly string[];
  readonly concurrency: number;
  readonly scanConcurrency: number;
  readonly regions: number;
  readonly batchCells: number;
  readonly outputPrefix: string;
}

export interface ProcessingResult {
  readonly records: number;
  readonly bytesIn: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly dksCalls: number;
  readonly distinctKeysInSample: number;
  readonly maxRssMiB: number;
  readonly outputKeys: readonly string[];
}

async function readSample(stack: StackState, table: string, cells: number): Promise<Cell[]> {
  const hbase = new HBaseRestSource({ url: stack.hbaseRestUrl });
  const sample: Cell[] = [];
  try {
    const [range] = await hbase.regions(table);
    if (range === undefined) throw new Error(`${table} has no regions`);
    const scan = hbase.scan({ table, range: { startRow: Buffer.alloc(0), endRow: Buffer.alloc(0) }, window: { start: 0, end: Number.MAX_SAFE_INTEGER } });
    for await (const batch of scan) {
      // Copies: the sample must not pin every response buffer it came from.
      for (const c of batch) sample.push({ rowKey: Buffer.from(c.rowKey), timestamp: c.timestamp, value: Buffer.from(c.value) });
      if (sample.length >= cells) break;
    }
  } finally {
    await hbase.close();
  }
  return sample.slice(0, cells);
}

/** HBase stand-in: `regions` ranges, each yielding its share of the sample cycled, in scanner-sized batches. */
function memorySource(sample: readonly Cell[], perCollection: number, regions: number, batchCells: number): HBaseSource {
  const ranges: KeyRange[] = Array.from({ length: regions }, (_, i) => ({ startRow: Buffer.from([i]), endRow: Buffer.from([i + 1]) }));
  return {
    regions: async () => ranges,
    async* scan(request: ScanRequest): AsyncGenerator<Cell[]> {
      const region = request.range.startRow[0] ?? 0;
      const share = Math.floor(perCollection / regions) + (region < perCollection % regions ? 1 : 0);
      let offset = (region * 7919) % sample.length;
      for (let sent = 0; sent < share;) {
        const n = Math.min(batchCells, share - sent);
        const batch: Cell[] = new Array(n);
        for (let i = 0; i < n; i += 1) {
          batch[i] = sample[offset]!;
          offset = offset + 1 === sample.length ? 0 : offset + 1;
        }
        sent += n;
        yield batch;
      }
    },
  };
}

export async function processingCeiling(request: ProcessingRequest): Promise<ProcessingResult> {
  const sample = await readSample(request.stack, request.sampleFrom, request.sampleCells);
  const distinctKeys = new Set(sample.map((c) => /"encryptedEncryptionKey":"([^"]+)"/.exec(c.value.toString('latin1'))?.[1])).size;
  const config = loadStepConfig({ env: {}, local: request.stack, localHome: localHome(), flags: { outputPrefix: request.outputPrefix } });
  const graph = buildStepGraph(config, silentLogger);
  const hbase = memorySource(sample, request.records, request.regions, request.batchCells);
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let records = 0;
  let bytesIn = 0;
  let dksCalls = 0;
  const outputKeys: string[] = [];
  try {
    const limit = pLimit(request.concurrency);
    await Promise.all(request.collections.map((name) => limit(async () => {
      const collection = collectionFromName(name);
      const ports = graph.portsFor(collection);
      const result = await runCollection({ hbase, keys: ports.keys, sink: ports.sink }, {
        collection,
        correlationId: `bench-processing-${Date.now()}`,
        attempt: 'bench',
        triggeredTime: Date.now(),
        window: { start: 0, end: Number.MAX_SAFE_INTEGER },
        folder: `${request.outputPrefix}/${collection.db}_${collection.table}/${Date.now()}`,
        scanConcurrency: request.scanConcurrency,
        maxQuarantined: 0,
        logger: silentLogger,
      });
      records += result.records;
      bytesIn += result.bytesIn;
      dksCalls += ports.keyStats().calls;
      outputKeys.push(...(result.published?.files.map((f) => f.key) ?? []), ...(result.published ? [result.published.manifestKey] : []));
    })));
  } finally {
    await graph.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    records, bytesIn, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, dksCalls, distinctKeysInSample: distinctKeys,
    maxRssMiB: process.resourceUsage().maxRSS / 1024, outputKeys,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const request = JSON.parse(process.argv[2] ?? '{}') as ProcessingRequest;
  console.log(JSON.stringify(await processingCeiling(request)));
}
