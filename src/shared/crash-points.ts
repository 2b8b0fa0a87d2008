/**
 * Named points where a test can make the process die as if killed (SIGKILL), to prove that a crash anywhere
 * leaves either a complete published run or nothing readers trust. Inert unless INGEST_REPLICA_CRASH_AT names
 * the point; never set in production.
 */
export type CrashPoint =
  | 'after-status-processing'
  | 'after-first-part'
  | 'before-manifest'
  | 'after-manifest'
  | 'after-status-completed';

export function crashPoint(point: CrashPoint): void {
  if (process.env.INGEST_REPLICA_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}
