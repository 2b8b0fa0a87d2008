import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StackState } from '../src/local/stack-state.js';
import { stackEnvText } from '../src/local/stack-state.js';
import type { BenchAws } from './aws.js';
import { probeCpu } from './processes.js';

/**
 * End to end: the real CLI (`dist/src/cli/main.js run`, what `bin/ingest-replica run` executes) over the
 * dataset, under `/usr/bin/time -v` for its peak RSS and CPU time. Each run gets its own status table (no
 * watermark: the whole window is read) and output prefix, both removed afterwards.
 */
export interface EndToEndRequest {
  readonly stack: StackState;
  readonly aws: BenchAws;
  readonly collections: readonly string[];
  /** Window end (exclusive): cells older than this are read. */
  readonly endTime: number;
  readonly concurrency: number;
  readonly scanConcurrency: number;
  readonly label: string;
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  /** Another build of the CLI and its launch flags (to compare with an earlier version). */
  readonly cli?: string;
  readonly stepFlags?: readonly string[];
  /** Extra `run` arguments, e.g. `--engine single`. */
  readonly args?: readonly string[];
  readonly watch: Readonly<Record<string, number | undefined>>;
}

export interface CollectionLine {
  readonly collection: string;
  readonly outcome: string;
  readonly records: number;
  readonly quarantined: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly dksCalls: number;
  readonly durationMs: number;
}

export interface EndToEndResult {
  readonly records: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly maxRssMiB: number;
  /** Minor page faults of the run: first touches of fresh memory (~3 µs of system CPU each on this kind of machine). */
  readonly minorFaults: number;
  readonly collections: readonly CollectionLine[];
  /** CPU seconds of the watched processes (HBase JVM, moto) during the run. */
  readonly others: Record<string, number | undefined>;
  readonly dksServerCalls: number | undefined;
  /** The last 200 kB of the step log (JSON lines). */
  readonly log: string;
}

const ROOT = new URL('..', import.meta.url).pathname;

/** Node flags and environment the step is started with (steps/run-step.sh, bin/ingest-replica). */
export const STEP_NODE_FLAGS = ['--enable-source-maps', '--max-semi-space-size=8'] as const;
export const STEP_ENV = { MALLOC_MMAP_THRESHOLD_: '1048576' } as const;

function envOf(stack: StackState): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...STEP_ENV };
  for (const line of stackEnvText(stack).trim().split('\n')) {
    const match = /^export ([A-Z_]+)='(.*)'$/.exec(line);
    if (match) env[match[1]!] = match[2]!;
  }
  return env;
}

export async function endToEnd(request: EndToEndRequest, dksCalls: () => Promise<number | undefined>): Promise<EndToEndResult> {
  const id = `bench-${request.label}-${Date.now().toString(36)}`;
  const statusTable = `bench-status-${Date.now().toString(36)}`;
  const prefix = `bench/${id}`;
  const timeFile = join(tmpdir(), `${id}.time`);
  await request.aws.createStatusTable(statusTable);
  const node = process.execPath;
  const args = [
    '-v', '-o', timeFile, node, ...(request.stepFlags ?? STEP_NODE_FLAGS), ...(request.nodeFlags ?? []), request.cli ?? join(ROOT, 'dist/src/cli/main.js'), 'run',
    '--correlation-id', id, '--triggered-time', String(Date.now()), '--end-time', String(request.endTime), '--visibility-lag', '0',
    '--collections', ...request.collections,
    '--concurrency', String(request.concurrency), '--scan-concurrency', String(request.scanConcurrency),
    '--status-table', statusTable, '--output-prefix', prefix, ...(request.args ?? []),
  ];
  const dksBefore = await dksCalls();
  const cpu = probeCpu(request.watch);
  const started = performance.now();
  try {
    const { code, stdout, stderr } = await run('/usr/bin/time', args, envOf(request.stack));
    const seconds = (performance.now() - started) / 1000;
    const others = cpu.stop();
    const dksAfter = await dksCalls();
    if (code !== 0) throw new Error(`run exited with ${code}: ${stderr.split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(0, 3).join('\n')}`);
    const collections = stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as CollectionLine);
    const time = readFileSync(timeFile, 'utf8');
    const field = (name: string): number => Number(new RegExp(`${name}: ([0-9.]+)`).exec(time)?.[1] ?? Number.NaN);
    return {
      records: collections.reduce((n, c) => n + c.records, 0),
      bytesIn: collections.reduce((n, c) => n + c.bytesIn, 0),
      bytesOut: collections.reduce((n, c) => n + c.bytesOut, 0),
      seconds,
      cpuSeconds: field('User time \\(seconds\\)') + field('System time \\(seconds\\)'),
      maxRssMiB: field('Maximum resident set size \\(kbytes\\)') / 1024,
      minorFaults: field('Minor \\(reclaiming a frame\\) page faults'),
      collections,
      others,
      dksServerCalls: dksBefore === undefined || dksAfter === undefined ? undefined : dksAfter - dksBefore,
      log: stderr,
    };
  } finally {
    rmSync(timeFile, { force: true });
    await request.aws.deleteOutput(prefix).catch(() => undefined);
    await request.aws.deleteStatusTable(statusTable).catch(() => undefined);
  }
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-200_000); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
