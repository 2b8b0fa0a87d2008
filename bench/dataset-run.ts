import { localHome, stackFiles } from '../src/local/paths.js';
import { readStackState, type StackState } from '../src/local/stack-state.js';
import { benchAws, type BenchAws } from './aws.js';
import { DEFAULT_DATASET, ensureDataset } from './dataset.js';
import { dksDecryptCounter } from './dks.js';
import { stackPids } from './processes.js';

/** What a script that runs `run` over the benchmark dataset needs (bench/ab-run.ts, bench/profile-run.ts). */
export interface DatasetRun {
  readonly stack: StackState;
  readonly spec: typeof DEFAULT_DATASET;
  readonly aws: BenchAws;
  readonly dks: ReturnType<typeof dksDecryptCounter>;
  /** The HBase JVM's and moto's pids, whose CPU a run also reports. */
  readonly watch: Readonly<Record<string, number | undefined>>;
  /** The window's end: the whole dataset, or about a tenth of every collection. */
  readonly endTime: number;
}

/** The running local stack, the benchmark dataset seeded (once), and clients for its AWS and DKS. */
export async function datasetRun(tenth: boolean, log: (line: string) => void): Promise<DatasetRun> {
  const stack = readStackState(stackFiles(localHome()).state);
  if (stack === undefined) throw new Error('the local stack is not running here: run `./bin/ingest-replica local up`');
  const spec = DEFAULT_DATASET;
  await ensureDataset(stack, spec, log);
  return {
    stack, spec, aws: benchAws(stack), dks: dksDecryptCounter(stack),
    watch: stackPids(stack),
    endTime: tenth ? spec.from + Math.round((spec.until - spec.from) / 10) : spec.until,
  };
}
