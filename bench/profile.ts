import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where `run`'s CPU goes, from the V8 CPU profiles that `node --cpu-prof` writes (one per thread): every
 * sample is charged to the nearest frame on its stack that belongs to a known stage (a native helper such
 * as `utf8Slice` is charged to the stage that called it), so the table reads as the pipeline's stages.
 */
export interface ProfileRow {
  readonly stage: string;
  readonly ms: number;
}

export interface ThreadProfile {
  readonly thread: string;
  readonly totalMs: number;
  readonly rows: readonly ProfileRow[];
}

interface Frame {
  readonly functionName: string;
  readonly url: string;
  /** Zero-based; -1 or absent for native frames. */
  readonly lineNumber?: number;
}

interface Node {
  readonly id: number;
  readonly callFrame: Frame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly Node[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Stage of a frame, or undefined to look further up the stack. First match wins. */
const STAGES: readonly [string, (f: Frame) => boolean][] = [
  ['idle (waiting for I/O or for the other thread)', (f) => f.functionName === '(idle)'],
  ['garbage collection', (f) => f.functionName === '(garbage collector)'],
  ['envelope: byte scanner (envelope-scan.ts), base64 decode and check', (f) => /contracts\/envelope|step\/envelope-scan/.test(f.url)],
  ['document: JSON check (json-check.ts)', (f) => f.url.includes('step/json-check')],
  ['AES-CTR keystream and XOR (ctr-batch.ts)', (f) => f.url.includes('step/ctr-batch')],
  ['row key and _id checks', (f) => f.url.includes('contracts/row-key')],
  ['decoder: UTF-8 decode, grouping, rows', (f) => f.url.includes('step/record-decoder')],
  ['key cache', (f) => f.url.includes('keys/')],
  ['part buffer (columns in UTF-8)', (f) => f.url.includes('sink/part-buffer')],
  ['Parquet: pages, zstd, footer check, SHA-256', (f) => /parquet|hyparquet|zlib|sink\/parquet-encoder/.test(f.url + f.functionName)],
  ['S3 upload (AWS SDK, HTTP)', (f) => /@aws-sdk|@smithy|lib-storage|sink\/s3-/.test(f.url)],
  ['HBase REST client (HTTP, protobuf, rows)', (f) => /hbase\/|undici/.test(f.url)],
  ['start-up (module loading, compiling)', (f) => /internal\/modules|esm\/|cjs\//.test(f.url) || f.functionName === '(program)'],
  ['step orchestration (collection-run, sink bookkeeping)', (f) => /step\/|sink\//.test(f.url)],
];
const OTHER = 'other (Node internals: streams, timers, sockets)';

function stageOf(path: readonly Frame[]): string {
  // From the leaf up: the first frame that names a stage.
  for (let i = path.length - 1; i >= 0; i -= 1) {
    const frame = path[i]!;
    for (const [stage, test] of STAGES) if (test(frame)) return stage;
  }
  return OTHER;
}

export function summariseProfile(profile: CpuProfile, thread: string): ThreadProfile {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageById = new Map<number, string>();
  const stageFor = (id: number): string => {
    const known = stageById.get(id);
    if (known !== undefined) return known;
    const path: Frame[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) path.unshift(byId.get(at)!.callFrame);
    const stage = stageOf(path);
    stageById.set(id, stage);
    return stage;
  };
  const ms = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = (profile.timeDeltas[i] ?? 0) / 1000;
    total += delta;
    const stage = stageFor(id);
    ms.set(stage, (ms.get(stage) ?? 0) + delta);
  });
  const rows = [...ms].map(([stage, v]) => ({ stage, ms: v })).sort((a, b) => b.ms - a.ms);
  return { thread, totalMs: total, rows };
}

/** Every profile in `dir` (main thread first: Node numbers the main thread's file `.0.`). */
export function summariseProfiles(dir: string): ThreadProfile[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  return files.map((file) => {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const thread = /\.0\.\d+\.cpuprofile$/.test(file) ? 'main thread' : 'worker thread (Parquet encoder)';
    return summariseProfile(profile, thread);
  });
}

/** Self time per function (`name file:line`), most first: what a stage's time is made of. */
export function selfTimes(profile: CpuProfile): { readonly name: string; readonly ms: number }[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const ms = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const { functionName, url, lineNumber = -1 } = byId.get(id)!.callFrame;
    const where = url === '' ? '' : ` ${url.replace(/^.*\/(node_modules|dist)\//, '').replace(/^node:/, '')}:${lineNumber + 1}`;
    const name = `${functionName || '(anonymous)'}${where}`;
    ms.set(name, (ms.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...ms].map(([name, v]) => ({ name, ms: v })).sort((a, b) => b.ms - a.ms);
}
