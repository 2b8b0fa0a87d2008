import { describe, expect, it } from 'vitest';
import type { ClusterInfo, ClusterState } from '../../src/orchestrator/emr/ports.js';
import {
  ClusterStillRunningError, InvalidClusterIdError, metaFolder, parseHBaseRoot, purgeClusterMetadata,
  type KeyFailure, type MetadataObjects, type PurgePorts, type PurgeSettings,
} from '../../src/orchestrator/purge/index.js';

/** An in-memory bucket with S3's listing rules (sorted keys, pages, delimiter) and scripted refusals. */
function memoryObjects(keys: string[], options: { pageSize?: number; refuse?: (key: string) => boolean } = {}) {
  const store = new Set(keys);
  const batches: number[] = [];
  const objects: MetadataObjects = {
    bucket: 'root-bucket',
    async *listPages(prefix, list = {}) {
      const matching = [...store].filter((k) => k.startsWith(prefix))
        .filter((k) => list.delimiter === undefined || !k.slice(prefix.length).includes(list.delimiter)).sort();
      const size = options.pageSize ?? 1000;
      for (let i = 0; i === 0 || i < matching.length; i += size) yield matching.slice(i, i + size);
    },
    async deleteBatch(batch) {
      batches.push(batch.length);
      const failures: KeyFailure[] = [];
      for (const key of batch) {
        if (options.refuse?.(key)) failures.push({ key, code: 'AccessDenied', message: 'Access Denied' });
        else store.delete(key);
      }
      return failures;
    },
  };
  return { objects, store, batches };
}

const cluster = (id: string, name: string, state: ClusterState, tags: Record<string, string> = {}): ClusterInfo => ({ id, name, state, tags });

function portsWith(objects: MetadataObjects, clusters: ClusterInfo[]): PurgePorts {
  return { objects, clusters: { describeCluster: async (id) => clusters.find((c) => c.id === id) } };
}

const settings: PurgeSettings = { root: { bucket: 'root-bucket', prefix: 'hbase' }, ownership: { namePrefix: 'ingest-replica', tag: { key: 'Application', value: 'ingest-replica' } } };
const folderFiles = (id: string, n: number): string[] => Array.from({ length: n }, (_, i) => `hbase/data/hbase/meta_${id}/f${String(i).padStart(5, '0')}`);

describe('the HBase root and the meta folder', () => {
  it('reads s3://bucket/prefix, with or without a prefix', () => {
    expect(parseHBaseRoot('s3://ingest-replica-hbase-root/hbase/')).toEqual({ bucket: 'ingest-replica-hbase-root', prefix: 'hbase' });
    expect(parseHBaseRoot('s3://bucket-a')).toEqual({ bucket: 'bucket-a', prefix: '' });
    expect(() => parseHBaseRoot('hdfs:///hbase')).toThrow('s3://');
  });

  it('places the folder under data/hbase and refuses ids that are not EMR cluster ids', () => {
    expect(metaFolder({ bucket: 'b', prefix: 'hbase' }, 'j-1ABC')).toBe('hbase/data/hbase/meta_j-1ABC');
    expect(metaFolder({ bucket: 'b', prefix: '' }, 'j-1ABC')).toBe('data/hbase/meta_j-1ABC');
    for (const bad of ['', 'j-', 'j-1/../x', 'J-1ABC', 'j-1abc', '*']) expect(() => metaFolder({ bucket: 'b', prefix: '' }, bad), bad).toThrow(InvalidClusterIdError);
  });
});

describe('purgeClusterMetadata', () => {
  it('deletes the folder, its bare key and its folder marker, in batches of at most 1000, and nothing of j-10', async () => {
    const others = [...folderFiles('j-10', 3), 'hbase/data/hbase/meta_j-10', 'hbase/data/hbase/meta_j-10_$folder$', 'hbase/data/hbase/meta/1588230740/x'];
    const mine = [...folderFiles('j-1', 2345), 'hbase/data/hbase/meta_j-1', 'hbase/data/hbase/meta_j-1_$folder$'];
    const { objects, store, batches } = memoryObjects([...mine, ...others], { pageSize: 700 });
    const result = await purgeClusterMetadata({ clusterId: 'j-1' }, portsWith(objects, [cluster('j-1', 'ingest-replica-incremental-x', 'TERMINATED')]), settings);
    expect(result).toMatchObject({ outcome: 'purged', deleted: 2347, deleteCalls: 3, failures: [], folder: 'hbase/data/hbase/meta_j-1/' });
    expect(batches).toEqual([1000, 1000, 347]);
    expect([...store].sort()).toEqual([...others].sort());
  });

  it('honours a smaller batch size but never a larger one', async () => {
    const run = async (batchSize: number) => {
      const { objects, batches } = memoryObjects(folderFiles('j-1', 2500));
      await purgeClusterMetadata({ clusterId: 'j-1' }, portsWith(objects, [cluster('j-1', 'ingest-replica', 'TERMINATED_WITH_ERRORS')]), { ...settings, batchSize });
      return batches;
    };
    expect(await run(1000)).toEqual([1000, 1000, 500]);
    expect(await run(5000)).toEqual([1000, 1000, 500]);
    expect(await run(900)).toEqual([900, 900, 700]);
  });

  it('collects per-key failures and counts only what was deleted', async () => {
    const { objects } = memoryObjects(folderFiles('j-1', 10), { refuse: (k) => k.endsWith('3') || k.endsWith('7') });
    const result = await purgeClusterMetadata({ clusterId: 'j-1' }, portsWith(objects, [cluster('j-1', 'ingest-replica-admin-1', 'TERMINATED')]), settings);
    expect(result).toMatchObject({ outcome: 'purged', deleted: 8 });
    expect(result.outcome === 'purged' && result.failures.map((f) => f.key)).toEqual(['hbase/data/hbase/meta_j-1/f00003', 'hbase/data/hbase/meta_j-1/f00007']);
  });

  it('recognises ours by name prefix or by tag, and ignores the rest with the reason', async () => {
    const clusters = [
      cluster('j-A', 'ingest-replica-e2e-1f2e', 'TERMINATED'),
      cluster('j-B', 'renamed', 'TERMINATED', { Application: 'ingest-replica' }),
      cluster('j-C', 'ingest-replicant', 'TERMINATED', { Application: 'other' }),
    ];
    const { objects } = memoryObjects([...folderFiles('j-A', 1), ...folderFiles('j-B', 1), ...folderFiles('j-C', 1)]);
    const ports = portsWith(objects, clusters);
    expect(await purgeClusterMetadata({ clusterId: 'j-A' }, ports, settings)).toMatchObject({ outcome: 'purged', deleted: 1 });
    expect(await purgeClusterMetadata({ clusterId: 'j-B' }, ports, settings)).toMatchObject({ outcome: 'purged', deleted: 1 });
    const c = await purgeClusterMetadata({ clusterId: 'j-C' }, ports, settings);
    expect(c).toMatchObject({ outcome: 'ignored' });
    expect(c.outcome === 'ignored' && c.reason).toContain('no tag Application=ingest-replica');
    expect(await purgeClusterMetadata({ clusterId: 'j-D' }, ports, settings)).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('EMR does not know') });
  });

  it.each(['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING'] as const)('refuses a cluster in state %s and deletes nothing', async (state) => {
    const { objects, store } = memoryObjects(folderFiles('j-1', 3));
    await expect(purgeClusterMetadata({ clusterId: 'j-1' }, portsWith(objects, [cluster('j-1', 'ingest-replica', state)]), settings)).rejects.toThrow(ClusterStillRunningError);
    expect(store.size).toBe(3);
  });

  it('deletes nothing in a dry run but says what it would delete', async () => {
    const { objects, store, batches } = memoryObjects(folderFiles('j-1', 1200));
    const result = await purgeClusterMetadata({ clusterId: 'j-1', dryRun: true }, portsWith(objects, [cluster('j-1', 'ingest-replica', 'TERMINATED')]), settings);
    expect(result).toMatchObject({ outcome: 'purged', dryRun: true, deleted: 1200, deleteCalls: 0, sample: folderFiles('j-1', 5) });
    expect(batches).toEqual([]);
    expect(store.size).toBe(1200);
  });
});
