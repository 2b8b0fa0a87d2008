import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DescribeClusterCommand, ListStepsCommand, RunJobFlowCommand } from '@aws-sdk/client-emr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOurClusters, stopClusters } from '../../src/orchestrator/admin/index.js';
import { EmrAdapter } from '../../src/orchestrator/emr/emr-adapter.js';
import { ForeignClusterError } from '../../src/orchestrator/emr/index.js';
import { trigger } from '../../src/orchestrator/trigger/index.js';
import { ConfigError } from '../../src/shared/errors.js';
import { uniqueCollection } from '../support/local-stack.js';
import type { OrchestratorGraph } from '../../src/wiring/orchestrator-graph.js';
import { orchestratorFixture, type OrchestratorFixture } from '../support/orchestrator.js';

const exec = promisify(execFile);
const cli = async (args: string[], fx: OrchestratorFixture): Promise<{ code: number; stdout: string; stderr: string }> => {
  const flags = ['--cluster-name-prefix', fx.clusterPrefix, '--status-table', fx.statusTable];
  try {
    const { stdout, stderr } = await exec(process.execPath, ['dist/src/cli/main.js', ...args, ...flags], { env: { ...process.env, LOG_LEVEL: 'warn' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const error = e as { code: number; stdout: string; stderr: string };
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
};

describe('cluster start | list | stop (moto)', () => {
  let fx: OrchestratorFixture;
  let graph: OrchestratorGraph;
  const foreign: Record<string, string> = {};

  beforeAll(async () => {
    fx = await orchestratorFixture('admin');
    graph = fx.graph();
    // Two clusters that only look like ours: our name without our tag, and our tag under another name.
    const launch = async (Name: string, Tags: { Key: string; Value: string }[]) => (await fx.emr.send(new RunJobFlowCommand({
      Name, ReleaseLabel: 'emr-7.9.0', Tags, Instances: { MasterInstanceType: 'm5.xlarge', InstanceCount: 1, KeepJobFlowAliveWhenNoSteps: true },
      JobFlowRole: 'EMR_EC2_DefaultRole', ServiceRole: 'EMR_DefaultRole',
    }))).JobFlowId as string;
    foreign.untagged = await launch(`${fx.clusterPrefix}-admin-lookalike`, []);
    foreign.renamed = await launch(`someone-else-${fx.id}`, [{ Key: 'Application', Value: 'ingest-replica' }]);
  });
  afterAll(async () => {
    graph?.close();
    await new EmrAdapter({ client: fx.emr }).terminate(Object.values(foreign)).catch(() => undefined);
    await fx?.cleanup();
  });

  it('requires --idle-timeout (exit 2), naming it and `never`', async () => {
    const refused = await cli(['cluster', 'start'], fx);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--idle-timeout/);
    expect(await listOurClusters(graph.admin)).toEqual([]);
  });

  it('starts a replica with no steps that stays up, and prints its id; --idle-timeout never warns loudly', async () => {
    const started = await cli(['cluster', 'start', '--idle-timeout', 'never'], fx);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stderr).toMatch(/WARNING: --idle-timeout never: this replica runs \(and costs\) until `ingest-replica cluster stop <id>` stops it/);
    const id = started.stdout.trim();
    expect(id).toMatch(/^j-[0-9A-Z]+$/);
    const { Cluster } = await fx.emr.send(new DescribeClusterCommand({ ClusterId: id }));
    expect(Cluster?.Name).toMatch(new RegExp(`^${fx.clusterPrefix}-admin-\\d{8}T\\d{6}Z$`));
    expect(Cluster?.Status?.State).toBe('WAITING');
    expect(Cluster?.AutoTerminate).toBe(false);
    expect(Object.fromEntries((Cluster?.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({ Application: 'ingest-replica', Purpose: 'admin' });
    expect((await fx.emr.send(new ListStepsCommand({ ClusterId: id }))).Steps).toEqual([]);
  });

  it('an admin cluster does not hold up a scheduled run: the trigger launches beside it', async () => {
    const [admin] = await listOurClusters(graph.admin);
    expect(admin?.tags.Purpose).toBe('admin');
    const result = await trigger({ force: true, dryRun: false, waitMs: 1000, collections: [uniqueCollection('admin')] }, graph.trigger);
    expect(result.outcome).toBe('launched');
    if (result.outcome === 'launched') await stopClusters(graph.admin, { clusterId: result.clusterId });
  });

  it('lists only our active clusters (name prefix and tag), with state and purpose', async () => {
    const listed = await cli(['cluster', 'list', '--json'], fx);
    expect(listed.code, listed.stderr).toBe(0);
    const clusters = JSON.parse(listed.stdout) as { id: string; state: string; purpose: string }[];
    expect(clusters).toHaveLength(1);
    expect(clusters[0]).toMatchObject({ state: 'WAITING', purpose: 'admin' });
    expect(clusters.map((c) => c.id)).not.toContain(foreign.untagged);
  });

  it('refuses to stop a cluster that is not ours (exit 2) or that EMR does not know', async () => {
    const refused = await cli(['cluster', 'stop', foreign.untagged as string], fx);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is not ours/);
    await expect(stopClusters(graph.admin, { clusterId: foreign.renamed as string })).rejects.toBeInstanceOf(ForeignClusterError);
    await expect(stopClusters(graph.admin, { clusterId: 'j-NOSUCHCLUSTER1' })).rejects.toBeInstanceOf(ConfigError);
    for (const id of Object.values(foreign)) {
      expect((await fx.emr.send(new DescribeClusterCommand({ ClusterId: id }))).Cluster?.Status?.State).toBe('WAITING');
    }
  });

  it('stops one of ours by id, then all of ours, leaving the others running', async () => {
    const [first] = await listOurClusters(graph.admin);
    const one = await stopClusters(graph.admin, { clusterId: first?.id as string });
    expect(one.stopped.map((c) => c.id)).toEqual([first?.id]);
    expect((await stopClusters(graph.admin, { clusterId: first?.id as string })).alreadyEnded.map((c) => c.state)).toEqual(['TERMINATED']);

    const a = await cli(['cluster', 'start', '--idle-timeout', '4h'], fx);
    const b = await cli(['cluster', 'start', '--idle-timeout', '4h'], fx);
    const all = await cli(['cluster', 'stop', '--all', '--json'], fx);
    expect(all.code, all.stderr).toBe(0);
    expect((JSON.parse(all.stdout) as { stopped: { id: string }[] }).stopped.map((c) => c.id).sort()).toEqual([a.stdout.trim(), b.stdout.trim()].sort());
    expect(await listOurClusters(graph.admin)).toEqual([]);
    for (const id of Object.values(foreign)) {
      expect((await fx.emr.send(new DescribeClusterCommand({ ClusterId: id }))).Cluster?.Status?.State).toBe('WAITING');
    }
  });
});
