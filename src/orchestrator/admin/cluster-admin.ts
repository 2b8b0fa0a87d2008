import { ConfigError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { isOurCluster } from '../emr/cluster-naming.js';
import { ClusterAccessDeniedError, ForeignClusterError } from '../emr/errors.js';
import type { LaunchPlanner } from '../emr/launch-planner.js';
import { ourClusters } from '../emr/our-clusters.js';
import { isActiveState, type ClusterInfo, type EmrControl, type RunJobFlowRequest } from '../emr/ports.js';

/** `cluster start | stop | list`: the operator's replicas, and only ours (name prefix + application tag). */
export interface ClusterAdminPorts {
  readonly emr: EmrControl;
  readonly planner: LaunchPlanner;
  readonly now: () => number;
  readonly logger: Logger;
}

export interface StartedCluster {
  readonly name: string;
  readonly request: RunJobFlowRequest;
  /** Absent in a dry run. */
  readonly clusterId?: string;
}

/** A replica with no steps, kept alive until stopped (or idle for `idleTimeoutMs`, when given). */
export async function startAdminCluster(ports: ClusterAdminPorts, options: { idleTimeoutMs?: number; dryRun?: boolean } = {}): Promise<StartedCluster> {
  const planned = ports.planner.admin(ports.now(), options.idleTimeoutMs);
  if (options.dryRun === true) return planned;
  const clusterId = await ports.emr.runJobFlow(planned.request);
  ports.logger.info({ clusterId, name: planned.name }, 'admin cluster started');
  return { ...planned, clusterId };
}

export interface StopResult {
  readonly stopped: readonly ClusterInfo[];
  /** Ours, but already terminating or terminated: nothing to do. */
  readonly alreadyEnded: readonly ClusterInfo[];
}

/** Terminates one cluster of ours (a foreign id is refused) or all our active ones. */
export async function stopClusters(ports: ClusterAdminPorts, target: { readonly clusterId: string } | { readonly all: true }): Promise<StopResult> {
  const prefix = ports.planner.clusterNamePrefix;
  let candidates: ClusterInfo[];
  if ('clusterId' in target) {
    const cluster = await ports.emr.describeCluster(target.clusterId).catch((e: unknown) => {
      // IAM allows describing our tagged clusters only: a refusal means it is not ours.
      if (e instanceof ClusterAccessDeniedError) throw new ForeignClusterError(`cluster ${target.clusterId} is not ours (not allowed to describe it: it lacks the tag Application=ingest-replica), so it is not stopped`, { context: { clusterId: target.clusterId } });
      throw e;
    });
    if (cluster === undefined) throw new ConfigError(`EMR does not know cluster ${target.clusterId}. Fix: pass an id from \`ingest-replica cluster list\`.`, { context: { clusterId: target.clusterId } });
    if (!isOurCluster(cluster, prefix)) {
      throw new ForeignClusterError(
        `cluster ${cluster.id} (${JSON.stringify(cluster.name)}) is not ours: it lacks the name prefix ${prefix} or the tag Application=ingest-replica, so it is not stopped`,
        { context: { clusterId: cluster.id } },
      );
    }
    candidates = [cluster];
  } else {
    candidates = await ourClusters(ports.emr, prefix);
  }
  // TERMINATING counts as ended here: asking again changes nothing.
  const running = candidates.filter((c) => isActiveState(c.state) && c.state !== 'TERMINATING');
  const alreadyEnded = candidates.filter((c) => !running.includes(c));
  if (running.length > 0) await ports.emr.terminate(running.map((c) => c.id));
  ports.logger.info({ stopped: running.map((c) => c.id), alreadyEnded: alreadyEnded.map((c) => c.id) }, 'clusters stopped');
  return { stopped: running, alreadyEnded };
}

/** Our active clusters, oldest first. */
export async function listOurClusters(ports: Pick<ClusterAdminPorts, 'emr' | 'planner'>): Promise<ClusterInfo[]> {
  return (await ourClusters(ports.emr, ports.planner.clusterNamePrefix)).sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0));
}
