import pLimit from 'p-limit';
import { isOurCluster, hasOurPrefix } from './cluster-naming.js';
import { ClusterAccessDeniedError } from './errors.js';
import { ACTIVE_CLUSTER_STATES, type ClusterInfo, type ClusterState, type EmrControl } from './ports.js';

/**
 * Our clusters in the given states (default: active): ListClusters (every page), keep names under the prefix,
 * then DescribeCluster each candidate to check the application tag (ListClusters carries no tags).
 */
export async function ourClusters(emr: EmrControl, prefix: string, states: readonly ClusterState[] = ACTIVE_CLUSTER_STATES): Promise<ClusterInfo[]> {
  const candidates = (await emr.listClusters(states)).filter((c) => hasOurPrefix(c.name, prefix));
  const limit = pLimit(4);
  // IAM lets us describe only clusters tagged as ours: a refusal means a lookalike, not ours.
  const described = await Promise.all(candidates.map((c) => limit(() => emr.describeCluster(c.id).catch((e: unknown) => {
    if (e instanceof ClusterAccessDeniedError) return undefined;
    throw e;
  }))));
  return described.filter((c): c is ClusterInfo => c !== undefined && isOurCluster(c, prefix) && states.includes(c.state));
}
