import { describe, expect, it } from 'vitest';
import { ClusterAccessDeniedError, ourClusters, type ClusterInfo, type ClusterListing, type EmrControl } from '../../src/orchestrator/emr/index.js';

/** EMR as the trigger's IAM policy shows it: ListClusters sees everything, DescribeCluster only tagged clusters. */
class TagScopedEmr implements EmrControl {
  described: string[] = [];
  constructor(private readonly clusters: ClusterInfo[]) {}
  listClusters(states: readonly string[]): Promise<ClusterListing[]> {
    return Promise.resolve(this.clusters.filter((c) => states.includes(c.state)).map(({ id, name, state }) => ({ id, name, state })));
  }
  describeCluster(id: string): Promise<ClusterInfo | undefined> {
    this.described.push(id);
    const c = this.clusters.find((x) => x.id === id);
    if (c && c.tags.Application !== 'ingest-replica') return Promise.reject(new ClusterAccessDeniedError(`denied ${id}`));
    return Promise.resolve(c);
  }
  runJobFlow(): Promise<string> { return Promise.reject(new Error('not used')); }
  terminate(): Promise<void> { return Promise.reject(new Error('not used')); }
}

const ours = { Application: 'ingest-replica' };

describe('ourClusters', () => {
  it('keeps active clusters with our name prefix and our tag; describes only those with the prefix', async () => {
    const emr = new TagScopedEmr([
      { id: 'j-1', name: 'ingest-replica-incremental-a', state: 'RUNNING', tags: ours },
      { id: 'j-2', name: 'ingest-replica-admin-b', state: 'WAITING', tags: ours },
      { id: 'j-3', name: 'ingest-replica-lookalike', state: 'RUNNING', tags: {} },
      { id: 'j-4', name: 'other-team', state: 'RUNNING', tags: ours },
      { id: 'j-5', name: 'ingest-replica-incremental-old', state: 'TERMINATED', tags: ours },
      { id: 'j-6', name: 'ingest-replicator', state: 'RUNNING', tags: ours },
    ]);
    expect((await ourClusters(emr, 'ingest-replica')).map((c) => c.id)).toEqual(['j-1', 'j-2']);
    expect(emr.described.sort()).toEqual(['j-1', 'j-2', 'j-3']);
  });
});
