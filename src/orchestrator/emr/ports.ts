/**
 * Port of the EMR control plane as the orchestrator uses it. The adapter (`emr-adapter.ts`) is the only file
 * that talks to EMR; the trigger, the guard and the admin commands depend on this interface alone.
 */

export type ClusterState =
  | 'STARTING' | 'BOOTSTRAPPING' | 'RUNNING' | 'WAITING' | 'TERMINATING' | 'TERMINATED' | 'TERMINATED_WITH_ERRORS';

/** States of a cluster that still runs (or is about to), i.e. that holds the replica. */
export const ACTIVE_CLUSTER_STATES: readonly ClusterState[] = ['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING'];
export const TERMINATED_CLUSTER_STATES: readonly ClusterState[] = ['TERMINATED', 'TERMINATED_WITH_ERRORS'];

export const isActiveState = (state: string): boolean => (ACTIVE_CLUSTER_STATES as readonly string[]).includes(state);

/** One line of ListClusters. */
export interface ClusterListing {
  readonly id: string;
  readonly name: string;
  readonly state: ClusterState;
  /** Epoch ms, when EMR reports it. */
  readonly createdAt?: number;
}

/** DescribeCluster, reduced to what the orchestrator reads. */
export interface ClusterInfo extends ClusterListing {
  readonly tags: Readonly<Record<string, string>>;
  /** EMR's reason for the last state change, e.g. "Steps completed" or a bootstrap failure. */
  readonly stateReason?: string;
  readonly endedAt?: number;
}

/**
 * The RunJobFlow request as plain JSON (the shape of the EMR API), built from the templates. Kept as data so
 * `--dry-run` prints exactly what would be sent and tests assert on it.
 */
export type RunJobFlowRequest = Readonly<Record<string, unknown>> & { readonly Name: string };

export interface EmrControl {
  /** Sends RunJobFlow; resolves to the new cluster's id. EMR has no idempotency token: callers guard launches. */
  runJobFlow(request: RunJobFlowRequest): Promise<string>;
  /** The cluster, or undefined when EMR does not know the id. */
  describeCluster(clusterId: string): Promise<ClusterInfo | undefined>;
  /** Every cluster in one of `states`, following every page. */
  listClusters(states: readonly ClusterState[]): Promise<ClusterListing[]>;
  terminate(clusterIds: readonly string[]): Promise<void>;
}
