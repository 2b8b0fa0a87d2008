import { DescribeClusterCommand, ListBootstrapActionsCommand, ListStepsCommand } from '@aws-sdk/client-emr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { stopClusters } from '../../src/orchestrator/admin/index.js';
import { FailedRunsBlockError, RunDeferredError, ScheduleRefusedError, trigger } from '../../src/orchestrator/trigger/index.js';
import { DynamoLaunchLock } from '../../src/status/launch-lock-adapter.js';
import { dynamoDocumentClient } from '../../src/wiring/aws-clients.js';
import { orchestratorFixture, type OrchestratorFixture } from '../support/orchestrator.js';
import { uniqueCollection } from '../support/local-stack.js';

/** Sunday 03:00 in London (winter: UTC): inside the default maintenance window SUN 02:00-06:00. */
const IN_MAINTENANCE = Date.UTC(2026, 0, 4, 3, 0);

describe('trigger launches the read replica on EMR (moto)', () => {
  let fx: OrchestratorFixture;
  const collections = [uniqueCollection('launch'), uniqueCollection('launch')];

  beforeAll(async () => {
    fx = await orchestratorFixture('launch');
  });
  afterAll(async () => fx?.cleanup());

  it('sends RunJobFlow built from the templates, visible through DescribeCluster, ListBootstrapActions and ListSteps', async () => {
    const graph = fx.graph();
    try {
      const result = await trigger({ force: true, dryRun: false, waitMs: 1000, collections }, graph.trigger);
      expect(result.outcome).toBe('launched');
      if (result.outcome !== 'launched') return;
      expect(result.clusterName).toBe(`${fx.clusterPrefix}-incremental-${result.correlationId}`);

      const { Cluster } = await fx.emr.send(new DescribeClusterCommand({ ClusterId: result.clusterId }));
      expect(Cluster?.Name).toBe(result.clusterName);
      expect(Cluster?.ReleaseLabel).toMatch(/^emr-7\.\d+\.\d+$/);
      expect(Cluster?.Applications?.map((a) => a.Name).sort()).toEqual(['HBase', 'Hadoop', 'Spark', 'ZooKeeper']);
      expect(Cluster?.SecurityConfiguration).toBe('ingest-replica-local');
      expect(Cluster?.LogUri).toBe('s3://ingest-replica-emr-logs/logs');
      expect(Cluster?.AutoTerminate).toBe(true);
      const tags = Object.fromEntries((Cluster?.Tags ?? []).map((t) => [t.Key, t.Value]));
      expect(tags).toMatchObject({ Application: 'ingest-replica', Purpose: 'incremental', CorrelationId: result.correlationId });
      const configurations = Object.fromEntries((Cluster?.Configurations ?? []).map((c) => [c.Classification, c.Properties]));
      expect(configurations.hbase).toEqual({ 'hbase.emr.storageMode': 's3', 'hbase.emr.readreplica.enabled': 'true' });
      expect(configurations['hbase-site']).toEqual({
        'hbase.rootdir': 's3://ingest-replica-hbase-root/hbase', 'hbase.rest.host': '127.0.0.1', 'hbase.rest.info.bindAddress': '127.0.0.1',
      });
      expect(configurations['spark-defaults']).toMatchObject({ 'spark.speculation': 'false', 'spark.yarn.maxAppAttempts': '1' });

      const { BootstrapActions } = await fx.emr.send(new ListBootstrapActionsCommand({ ClusterId: result.clusterId }));
      expect(BootstrapActions?.map((b) => b.ScriptPath)).toEqual([
        's3://ingest-replica-artifacts/local/emr-config/bootstrap/install-cloudwatch-agent.sh',
        's3://ingest-replica-artifacts/local/emr-config/bootstrap/install-ingest-replica.sh',
      ]);
      expect(BootstrapActions?.[1]?.Args?.[0]).toMatch(/^s3:\/\/ingest-replica-artifacts\/local\/ingest-replica\/ingest-replica-.+\.tar\.gz$/);

      const { Steps } = await fx.emr.send(new ListStepsCommand({ ClusterId: result.clusterId }));
      expect(Steps).toHaveLength(1);
      expect(Steps?.[0]?.ActionOnFailure).toBe('TERMINATE_CLUSTER');
      expect(Steps?.[0]?.Config?.Jar).toBe('command-runner.jar');
      const args = Steps?.[0]?.Config?.Args ?? [];
      expect(args[0]).toBe('/opt/ingest-replica/steps/run-step.sh');
      const flag = (name: string) => args[args.indexOf(name) + 1];
      expect(flag('--correlation-id')).toBe(result.correlationId);
      expect(flag('--triggered-time')).toBe(String(result.triggeredTime));
      expect(flag('--end-time')).toBe(String(result.triggeredTime));
      expect(flag('--status-table')).toBe(fx.statusTable);
      expect(flag('--collections')).toBe(collections.join(','));

      const store = new DynamoStatusStore({ tableName: fx.statusTable, client: dynamoDocumentClient(fx.config().step) });
      for (const collection of collections) {
        const row = await store.get(result.correlationId, collection);
        expect(row).toMatchObject({ status: 'EMR_LAUNCHED', emrClusterId: result.clusterId, triggeredTime: result.triggeredTime });
      }
      expect(await fx.clusters()).toHaveLength(1);
    } finally {
      graph.close();
    }
  });

  it('--dry-run judges as the real trigger (deferred while our cluster is active, exit 3), then returns the request; writes nothing', async () => {
    const graph = fx.graph();
    const store = new DynamoStatusStore({ tableName: fx.statusTable, client: dynamoDocumentClient(fx.config().step) });
    const lock = new DynamoLaunchLock({ tableName: fx.statusTable, client: dynamoDocumentClient(fx.config().step) });
    try {
      await fx.inbox.drain();
      const before = await fx.clusters();
      const lockBefore = await lock.read();
      // The first test's cluster is still active (moto never ends its step): the real trigger would defer.
      const deferred = await trigger({ force: true, dryRun: true, waitMs: 1000, collections: [collections[0] as string], correlationId: `dry-${fx.id}` }, graph.trigger)
        .catch((e: unknown) => e);
      expect(deferred).toBeInstanceOf(RunDeferredError);
      expect((deferred as Error).message).toMatch(/^dry run \(nothing written, no alert sent\): deferred: still active after waiting/);
      expect(await store.rowsOf(`dry-${fx.id}`)).toEqual([]);
      expect(await fx.inbox.drain()).toEqual([]);

      // Its cluster gone, the real trigger would reconcile its rows to EMR_FAILED and be blocked by them: so is
      // the dry run (exit 3), while the rows stay as they are.
      await stopClusters(graph.admin, { all: true });
      const stopped = await fx.clusters();
      const blocked = await trigger({ force: true, dryRun: true, waitMs: 1000, collections: [collections[0] as string] }, graph.trigger).catch((e: unknown) => e);
      expect(blocked).toBeInstanceOf(FailedRunsBlockError);
      expect((blocked as Error).message).toMatch(/^dry run \(nothing written, no alert sent\): not launching: unacknowledged failed runs block .* EMR_FAILED/);
      const [launched] = (await fx.clusters()).map((c) => c.id);
      expect((await store.blockingRows(collections[0] as string)).map((r) => [r.status, r.emrClusterId])).toEqual([['EMR_LAUNCHED', launched]]);

      const result = await trigger({ force: true, dryRun: true, waitMs: 1000, collections: [uniqueCollection('dry')] }, graph.trigger);
      expect(result.outcome).toBe('dry-run');
      expect(result.request.Name).toBe(result.clusterName);
      expect(result.request.AutoTerminationPolicy).toEqual({ IdleTimeout: 900 });
      expect((result.request.Instances as Record<string, unknown>).KeepJobFlowAliveWhenNoSteps).toBe(false);
      expect(await fx.clusters()).toEqual(stopped);
      expect(stopped.map((c) => c.id).sort()).toEqual(before.map((c) => c.id).sort());
      expect(await store.rowsOf(result.correlationId)).toEqual([]);
      expect(await lock.read()).toEqual(lockBefore);
      expect(await fx.inbox.drain()).toEqual([]);
    } finally {
      graph.close();
    }
  });

  it('refuses inside a maintenance window (exit 3) without writing, even with --force; launches with --override-maintenance-window', async () => {
    const graph = fx.graph();
    const collection = uniqueCollection('maint');
    try {
      const refused = await trigger({ at: IN_MAINTENANCE, force: false, dryRun: false, waitMs: 1000, collections: [collection], correlationId: `maint-${fx.id}` }, graph.trigger).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ScheduleRefusedError);
      expect((refused as Error).message).toMatch(/maintenance window SUN 02:00-06:00/);
      const store = new DynamoStatusStore({ tableName: fx.statusTable, client: dynamoDocumentClient(fx.config().step) });
      expect(await store.rowsOf(`maint-${fx.id}`)).toEqual([]);

      const forced = await trigger({ at: IN_MAINTENANCE, force: true, dryRun: false, waitMs: 1000, collections: [collection], correlationId: `maint-f-${fx.id}` }, graph.trigger).catch((e: unknown) => e);
      expect(forced).toBeInstanceOf(ScheduleRefusedError);
      expect((forced as Error).message).toMatch(/--force does not override a maintenance window/);
      expect(await store.rowsOf(`maint-f-${fx.id}`)).toEqual([]);

      // The earlier launch is still active in moto (its step never ends): stop it so the overriding one may go.
      await stopClusters(graph.admin, { all: true });
      await fx.inbox.drain();
      const overridden = await trigger({ at: IN_MAINTENANCE, force: false, overrideMaintenanceWindow: true, dryRun: false, waitMs: 1000, collections: [collection] }, graph.trigger);
      expect(overridden.outcome).toBe('launched');
      expect((await fx.inbox.drain()).map((m) => m.title_text)).toContain('ingest-replica: launching INSIDE a maintenance window (overridden by --override-maintenance-window)');
    } finally {
      graph.close();
    }
  });
});
