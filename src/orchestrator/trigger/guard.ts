import { FAILED_STATUSES, type StoredStatusRow } from '../../status/status-item.js';
import { blocksScheduledRuns } from '../emr/cluster-naming.js';
import { isActiveState, type ClusterInfo } from '../emr/ports.js';

/**
 * The guard's rules, as pure functions over what the status table and EMR said.
 *
 * Rows of other runs, by state:
 * - `EMR_FAILED` / `LAMBDA_FAILED`: a failure nobody acknowledged — blocks until `ack` (no waiting helps);
 * - `EMR_LAUNCHED` / `EMR_PROCESSING`: a run in flight — wait (unless reconciliation finds its cluster gone);
 * - `LAMBDA_TRIGGERED` / `WAITING`: another trigger that has not launched. It does not block by itself: the
 *   launch lock decides between live triggers, and if it launches, its cluster and EMR_LAUNCHED rows block.
 *   A trigger that died leaves such rows behind; once stale they are reconciled to `LAMBDA_FAILED`.
 * Our active clusters in EMR (name prefix + tag) block whatever the table says, except admin clusters
 * (`cluster start`, tag Purpose=admin): they run no step; a step run on one blocks through its rows.
 */
export type Verdict =
  | { readonly kind: 'clear' }
  | { readonly kind: 'failed'; readonly rows: readonly StoredStatusRow[] }
  | { readonly kind: 'active'; readonly rows: readonly StoredStatusRow[]; readonly clusters: readonly ClusterInfo[] };

const IN_FLIGHT = new Set(['EMR_LAUNCHED', 'EMR_PROCESSING']);
const PRE_LAUNCH = new Set(['LAMBDA_TRIGGERED', 'WAITING']);

export interface Reconciliation {
  readonly to: 'EMR_FAILED' | 'LAMBDA_FAILED';
  readonly reason: string;
}

/**
 * The staleness rule for an in-flight row no cluster answers for: a step started by hand (`run`, no EMR
 * job-flow file) leaves `EMR_PROCESSING` without a cluster id. Its runner renews the row's `UpdatedAt` with its
 * collection lease (every third of the lease); a row not renewed for `staleAfterMs` has no live runner. Returns
 * why, or undefined while the row is fresh. The next run of the collection settles its output either way.
 */
export function staleInFlight(row: StoredStatusRow, now: number, staleAfterMs: number): string | undefined {
  if (row.status !== 'EMR_PROCESSING' || row.emrClusterId !== undefined) return undefined;
  const last = row.updatedAt ?? row.triggeredTime;
  if (now - last <= staleAfterMs) return undefined;
  return `the runner of run ${row.correlationId} stopped: its EMR_PROCESSING row (no cluster) was last renewed at ${new Date(last).toISOString()}`;
}

/** Whether a row is a run in flight whose cluster EMR must be asked about. */
export const needsClusterCheck = (row: StoredStatusRow): boolean => IN_FLIGHT.has(row.status) && row.emrClusterId !== undefined;

/**
 * What another run's row becomes, if its state is no longer true. `cluster` is EMR's answer for the row's
 * cluster (`undefined` when EMR does not know the id); it is ignored for rows without one.
 */
export function reconcileRow(row: StoredStatusRow, cluster: ClusterInfo | undefined, now: number, staleAfterMs: number): Reconciliation | undefined {
  if (needsClusterCheck(row)) {
    const id = row.emrClusterId as string;
    if (cluster === undefined) return { to: 'EMR_FAILED', reason: `EMR does not know cluster ${id}; the run (${row.status}) cannot still be running` };
    if (isActiveState(cluster.state)) return undefined;
    const why = cluster.stateReason ? ` (${cluster.stateReason})` : '';
    return { to: 'EMR_FAILED', reason: `cluster ${id} is ${cluster.state}${why} but the run was still ${row.status}` };
  }
  const stale = staleInFlight(row, now, staleAfterMs);
  if (stale !== undefined) return { to: 'EMR_FAILED', reason: stale };
  if (PRE_LAUNCH.has(row.status)) {
    const last = row.updatedAt ?? row.triggeredTime;
    if (now - last > staleAfterMs) {
      return { to: 'LAMBDA_FAILED', reason: `the trigger of run ${row.correlationId} stopped without an outcome: its ${row.status} row was last updated at ${new Date(last).toISOString()}` };
    }
  }
  return undefined;
}

/** The decision from the (reconciled) blocking rows of other runs and our active clusters. */
export function assess(ownCorrelationId: string, rows: readonly StoredStatusRow[], clusters: readonly ClusterInfo[]): Verdict {
  const others = rows.filter((r) => r.correlationId !== ownCorrelationId);
  const failed = others.filter((r) => FAILED_STATUSES.has(r.status));
  if (failed.length > 0) return { kind: 'failed', rows: failed };
  const inFlight = others.filter((r) => IN_FLIGHT.has(r.status));
  const blocking = clusters.filter(blocksScheduledRuns);
  if (inFlight.length > 0 || blocking.length > 0) return { kind: 'active', rows: inFlight, clusters: blocking };
  return { kind: 'clear' };
}

/** One line for rows and logs: what is active. */
export function describeActive(verdict: Extract<Verdict, { kind: 'active' }>): string {
  const clusters = verdict.clusters.map((c) => `cluster ${c.id} (${c.name}, ${c.state})`);
  const runs = [...groupByRun(verdict.rows)].map(([id, rows]) => `run ${id} ${rows.map((r) => `${r.collection} ${r.status}${r.emrClusterId ? ` on ${r.emrClusterId}` : ''}`).join(', ')}`);
  return [...clusters, ...runs].join('; ');
}

export function describeFailed(rows: readonly StoredStatusRow[]): string {
  return rows.map((r) => `${r.collection} ${r.status} (run ${r.correlationId}${r.emrClusterId ? `, cluster ${r.emrClusterId}` : ''}${r.reason ? `: ${r.reason}` : ''})`).join('; ');
}

/**
 * The exact commands that clear the failed rows: by collection (acknowledges every failed row of each), and by
 * run when a single run failed. `--status-table` is spelled out when it is not the default table.
 */
export function ackCommands(rows: readonly StoredStatusRow[], statusTable: string, defaultTable = 'intraday-job-status'): string[] {
  const table = statusTable === defaultTable ? '' : ` --status-table ${statusTable}`;
  const collections = [...new Set(rows.map((r) => r.collection))].sort();
  const runs = [...new Set(rows.map((r) => r.correlationId))];
  const commands = [`ingest-replica ack ${collections.join(' ')}${table}`];
  if (runs.length === 1) commands.push(`ingest-replica ack --correlation-id ${runs[0]}${table}`);
  return commands;
}

export function groupByRun(rows: readonly StoredStatusRow[]): Map<string, StoredStatusRow[]> {
  const runs = new Map<string, StoredStatusRow[]>();
  for (const r of rows) runs.set(r.correlationId, [...(runs.get(r.correlationId) ?? []), r]);
  return runs;
}
