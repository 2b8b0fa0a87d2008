/**
 * Named points where a test can make the process die as if killed (SIGKILL), to prove that a crash anywhere
 * leaves either a complete published run or nothing readers trust. Inert unless INGEST_REPLICA_CRASH_AT names
 * the point; never set in production. INGEST_REPLICA_CRASH_HIT=n dies the n-th time the point is reached
 * (default 1), e.g. `after-scan-batch` with n=3 dies after the third scanned batch was handed to the output;
 * INGEST_REPLICA_CRASH_MODE=hang makes it stall there forever instead, `pause:<ms>` for that long.
 */
export type CrashPoint =
  | 'after-status-processing'
  | 'after-scan-batch'
  /** After a part's upload completed (any part; `after-first-part` is its first hit). */
  | 'after-part-upload'
  | 'after-first-part'
  /** A Spark run's commit completed the winners' staged objects; no manifest yet. */
  | 'after-parts-committed'
  | 'before-manifest'
  /** The pending manifest is written; the run has not claimed its publication yet. */
  | 'after-pending-manifest'
  /** The run claimed its publication (its commit point); no manifest yet: a settle step must finish it. */
  | 'after-publication-claim'
  /** The manifest is in S3 but `_SUCCESS` is not yet. */
  | 'after-manifest-put'
  | 'after-manifest'
  | 'after-status-completed';

let armed: { point: string; hit: number } | null | undefined;
let handler: ((point: CrashPoint) => void) | undefined;

/**
 * Test hook: every crash point calls `h` instead of reading the environment, so a test can stop a step
 * in-process (the exactly-once property test cuts a runner's ports off there, as a SIGKILL would). Never set
 * in production; `undefined` restores the environment's behaviour.
 */
export function onCrashPoint(h: ((point: CrashPoint) => void) | undefined): void {
  handler = h;
}
const hits = new Map<string, number>();

export function crashPoint(point: CrashPoint): void {
  if (handler !== undefined) {
    handler(point);
    return;
  }
  // Read once: this sits on the scan's path, and the environment does not change under a running step.
  if (armed === undefined) {
    const at = process.env.INGEST_REPLICA_CRASH_AT;
    const hit = Number(process.env.INGEST_REPLICA_CRASH_HIT ?? '1');
    armed = at ? { point: at === 'after-first-part' ? 'after-part-upload' : at, hit: Number.isInteger(hit) && hit > 0 ? hit : 1 } : null;
  }
  if (armed === null) return;
  const name = point === 'after-first-part' ? 'after-part-upload' : point;
  if (name !== armed.point) return;
  const count = (hits.get(name) ?? 0) + 1;
  hits.set(name, count);
  if (count !== armed.hit) return;
  // INGEST_REPLICA_CRASH_MODE=hang: stall forever instead (a worker that stops making progress);
  // pause:<ms>: stall that long, then go on (a slow worker, e.g. while a region splits under its scanner).
  const mode = process.env.INGEST_REPLICA_CRASH_MODE ?? 'kill';
  const stall = (ms?: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  if (mode === 'hang') stall();
  if (mode.startsWith('pause:')) return stall(Number(mode.slice('pause:'.length)));
  process.kill(process.pid, 'SIGKILL');
}
