import pLimit from 'p-limit';
import type { JobStatus } from '../../shared/types.js';
import type { StoredStatusRow } from '../../status/status-item.js';
import type { LaunchRecord } from '../../status/launch-lock.js';
import { raiseAlert } from '../alerts/alert.js';
import { isOurCluster } from '../emr/cluster-naming.js';
import { ClusterAccessDeniedError } from '../emr/errors.js';
import { ourClusters } from '../emr/our-clusters.js';
import { isActiveState, type ClusterInfo } from '../emr/ports.js';
import { assess, groupByRun, needsClusterCheck, reconcileRow, type Verdict } from './guard.js';
import type { TriggerPorts } from './ports.js';
import { reconciledAlert } from './trigger-alerts.js';

export interface InspectRequest {
  readonly correlationId: string;
  readonly collections: readonly string[];
  /** The last launch recorded in the lock: asked about by id, whatever ListClusters says yet. */
  readonly lastLaunch?: LaunchRecord;
  readonly staleAfterMs: number;
}

/**
 * The guard, run while holding the launch lock: read the blocking rows of our collections (GSI, paginated),
 * reconcile the ones EMR or the clock contradicts, ask EMR for our active clusters, and decide.
 * Never trusts the table alone (clusters are asked about), nor ListClusters alone (the last launch is
 * described by id, and rows name their clusters).
 */
export async function inspect(request: InspectRequest, ports: TriggerPorts): Promise<Verdict> {
  const limit = pLimit(4);
  const rows = (await Promise.all(request.collections.map((c) => limit(() => ports.status.blockingRows(c)))))
    .flat()
    .filter((r) => r.correlationId !== request.correlationId);

  const clusterIds = [...new Set([
    ...rows.filter(needsClusterCheck).map((r) => r.emrClusterId as string),
    ...(request.lastLaunch ? [request.lastLaunch.clusterId] : []),
  ])];
  const described = new Map<string, ClusterInfo | undefined>();
  await Promise.all(clusterIds.map((id) => limit(async () => {
    try {
      described.set(id, await ports.emr.describeCluster(id));
    } catch (e) {
      // Not allowed to look (not tagged as ours): its rows cannot be judged, so they stay as they are.
      if (!(e instanceof ClusterAccessDeniedError)) throw e;
      ports.logger.warn({ clusterId: id }, 'cluster named by a status row cannot be described; its rows are left as they are');
    }
  })));

  const current = await reconcile(rows, described, request.staleAfterMs, ports);
  const clusters = await ourClusters(ports.emr, ports.planner.clusterNamePrefix);
  const last = request.lastLaunch && described.get(request.lastLaunch.clusterId);
  if (last && isActiveState(last.state) && isOurCluster(last, ports.planner.clusterNamePrefix) && !clusters.some((c) => c.id === last.id)) {
    clusters.push(last);
  }
  return assess(request.correlationId, current, clusters);
}

/** Applies `reconcileRow` to each row with a conditional write; returns the rows as they now stand. */
async function reconcile(rows: readonly StoredStatusRow[], clusters: ReadonlyMap<string, ClusterInfo | undefined>, staleAfterMs: number, ports: TriggerPorts): Promise<StoredStatusRow[]> {
  const now = ports.clock.now();
  const changed: { row: StoredStatusRow; to: string; reason: string }[] = [];
  const current: StoredStatusRow[] = [];
  for (const row of rows) {
    // A row whose cluster could not be described is left alone (in flight rows then keep the trigger waiting).
    if (needsClusterCheck(row) && !clusters.has(row.emrClusterId as string)) {
      current.push(row);
      continue;
    }
    const rule = reconcileRow(row, row.emrClusterId === undefined ? undefined : clusters.get(row.emrClusterId), now, staleAfterMs);
    if (rule === undefined) {
      current.push(row);
      continue;
    }
    const moved = await ports.status.transition({ ...row, status: rule.to }, [row.status as JobStatus], rule.reason);
    if (moved) {
      ports.logger.warn({ correlationId: row.correlationId, collection: row.collection, from: row.status, to: rule.to, reason: rule.reason }, 'status reconciled');
      changed.push({ row, to: rule.to, reason: rule.reason });
      current.push({ ...row, status: rule.to });
    } else {
      // Someone moved it first (the step completing, an operator): take the row as it now is.
      const now = await ports.status.get(row.correlationId, row.collection);
      if (now !== undefined) current.push(now);
    }
  }
  for (const [correlationId, runRows] of groupByRun(changed.map((c) => c.row))) {
    await raiseAlert(ports.alerts, reconciledAlert(correlationId, changed.filter((c) => runRows.includes(c.row))), ports.logger);
  }
  return current;
}
