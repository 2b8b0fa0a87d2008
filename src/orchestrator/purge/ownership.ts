import { hasOurPrefix } from '../emr/cluster-naming.js';
import type { ClusterInfo } from '../emr/ports.js';

/** How the purge recognises our clusters: by name prefix **or** tag, so e2e and admin clusters match too. */
export interface Ownership {
  readonly namePrefix: string;
  readonly tag: { readonly key: string; readonly value: string };
}

/**
 * Undefined when the cluster is ours, else why not. Either mark is enough here (unlike the launch guard): a
 * cluster of ours that lost its tag, or was launched under an older name, still leaves a meta folder behind.
 */
export function notOursReason(cluster: Pick<ClusterInfo, 'id' | 'name' | 'tags'>, ownership: Ownership): string | undefined {
  if (hasOurPrefix(cluster.name, ownership.namePrefix)) return undefined;
  if (cluster.tags[ownership.tag.key] === ownership.tag.value) return undefined;
  return `cluster ${cluster.id} (${JSON.stringify(cluster.name)}) is not ours: its name does not start with ` +
    `${ownership.namePrefix} and it has no tag ${ownership.tag.key}=${ownership.tag.value}`;
}
