import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acknowledgeFailures, stopClusters } from '../../src/orchestrator/admin/index.js';
import { FailedRunsBlockError, RunDeferredError, trigger } from '../../src/orchestrator/trigger/index.js';
import type { TriggerRequest } from '../../src/orchestrator/trigger/index.js';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { keyOf } from '../../src/status/status-item.js';
import { REASON_ATTR } from '../../src/status/status-reason-adapter.js';
import { exitCodeFor } from '../../src/shared/errors.js';
import { dynamoDocumentClient } from '../../src/wiring/aws-clients.js';
import type { OrchestratorGraph } from '../../src/wiring/orchestrator-graph.js';
import { uniqueCollection } from '../support/local-stack.js';
import { orchestratorFixture, type OrchestratorFixture } from '../support/orchestrator.js';

const exec = promisify(execFile);
const FAST = { backoffBaseMs: 200, backoffCapMs: 400, lockPollMs: 50 };

describe('trigger guards (moto, status table of its own)', () => {
  let fx: OrchestratorFixture;
  let graph: OrchestratorGraph;
  let store: DynamoStatusStore;
  const doc = () => dynamoDocumentClient(fx.config().step);
  const run = (collection: string, extra: Partial<TriggerRequest> = {}) =>
    trigger({ force: true, dryRun: false, waitMs: 2000, collections: [collection], timing: FAST, ...extra }, graph.trigger);
  const reason = async (correlationId: string, collection: string) =>
    (await doc().send(new GetCommand({ TableName: fx.statusTable, Key: keyOf(correlationId, collection) }))).Item?.[REASON_ATTR] as string | undefined;

  /** A cluster of another scheduled run (admin clusters do not hold runs up): launched as the trigger would. */
  let others = 0;
  const otherRun = async (): Promise<{ clusterId: string }> => {
    const at = Date.now();
    const { request } = graph.trigger.planner.incremental({ correlationId: `other-${fx.id}-${(others += 1)}`, triggeredTime: at, endTime: at, collections: ['other:run'] });
    return { clusterId: await graph.trigger.emr.runJobFlow(request) };
  };

  beforeAll(async () => {
    fx = await orchestratorFixture('guard');
    graph = fx.graph();
    store = new DynamoStatusStore({ tableName: fx.statusTable, client: doc() });
  });
  afterAll(async () => {
    graph?.close();
    await fx?.cleanup();
  });

  it('waits while a cluster of ours is active, then defers with an alert and exit code 3', async () => {
    const admin = await otherRun();
    const collection = uniqueCollection('wait');
    await fx.inbox.drain();
    try {
      const started = Date.now();
      const pending = run(collection, { correlationId: `wait-${fx.id}` }).catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 700));
      expect((await store.get(`wait-${fx.id}`, collection))?.status).toBe('WAITING');
      const error = await pending;
      expect(error).toBeInstanceOf(RunDeferredError);
      expect(exitCodeFor(error)).toBe(3);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
      expect((await store.get(`wait-${fx.id}`, collection))?.status).toBe('DEFERRED');
      expect(await reason(`wait-${fx.id}`, collection)).toContain(admin.clusterId);
      const alerts = await fx.inbox.drain();
      expect(alerts).toHaveLength(1);
      expect(alerts[0]).toMatchObject({ severity: 'Medium', notification_type: 'Warning', slack_username: 'ingest-replica' });
      expect(alerts[0]?.title_text).toMatch(/deferred/);
      expect(alerts[0]?.custom_elements).toContainEqual({ key: 'Correlation id', value: `wait-${fx.id}` });
      expect((await fx.clusters()).map((c) => c.id)).toEqual([admin.clusterId]);
    } finally {
      await stopClusters(graph.admin, { all: true });
    }
  });

  it('trigger --wait 1s on the command line exits 3 with the deferral while our cluster is active, and so does --dry-run, writing nothing', async () => {
    const admin = await otherRun();
    const collection = uniqueCollection('cliwait');
    try {
      const flags = Object.entries(fx.flags).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v]);
      const cli = (extra: string[]) => exec(process.execPath, ['dist/src/cli/main.js', 'trigger', '--force', '--wait', '1s', '--collections', collection, ...extra, ...flags], { env: { ...process.env, LOG_LEVEL: 'warn' } })
        .then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => e);
      const dry = await cli(['--dry-run']);
      expect(dry.code).toBe(3);
      expect(dry.stderr).toContain(`dry run (nothing written, no alert sent): deferred: still active after waiting 1 s: cluster ${admin.clusterId}`);
      expect(await store.blockingRows(collection)).toEqual([]);
      const outcome = await cli([]);
      expect(outcome.code).toBe(3);
      expect(outcome.stderr).toContain(`deferred: still active after waiting 1 s: cluster ${admin.clusterId}`);
    } finally {
      await stopClusters(graph.admin, { all: true });
    }
  });

  it('a failed row blocks (exit 3, naming the rows and the ack command) until it is acknowledged', async () => {
    const collection = uniqueCollection('failed');
    await store.transition({ correlationId: `old-${fx.id}`, collection, status: 'EMR_FAILED', triggeredTime: Date.now() - 3_600_000, emrClusterId: 'j-OLDFAILED' }, [undefined]);
    await fx.inbox.drain();
    const clustersBefore = await fx.clusters();

    const error = await run(collection, { correlationId: `blocked-${fx.id}` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailedRunsBlockError);
    expect(exitCodeFor(error)).toBe(3);
    const message = (error as Error).message;
    expect(message).toContain(`${collection} EMR_FAILED (run old-${fx.id}, cluster j-OLDFAILED)`);
    expect(message).toContain(`ingest-replica ack ${collection} --status-table ${fx.statusTable}`);
    expect(message).toContain(`ingest-replica ack --correlation-id old-${fx.id} --status-table ${fx.statusTable}`);
    expect((await store.get(`blocked-${fx.id}`, collection))?.status).toBe('DEFERRED');
    expect(await fx.clusters()).toEqual(clustersBefore);
    const [alert] = await fx.inbox.drain();
    expect(alert).toMatchObject({ severity: 'High', notification_type: 'Error' });
    expect(alert?.title_text).toMatch(/unacknowledged failed runs/);

    const acked = await acknowledgeFailures({ collections: [collection] }, 'tester', 1_800_000_000_000, graph.ack, 600_000);
    expect(acked).toEqual([{ correlationId: `old-${fx.id}`, collection, result: { outcome: 'acknowledged', from: 'EMR_FAILED', to: '_EMR_FAILED' } }]);
    expect(await store.get(`old-${fx.id}`, collection)).toMatchObject({ status: '_EMR_FAILED', acknowledgedBy: 'tester', acknowledgedAt: 1_800_000_000_000 });

    const launched = await run(collection);
    expect(launched.outcome).toBe('launched');
    await stopClusters(graph.admin, { all: true });
  });

  it('reconciles a run whose cluster terminated: EMR_FAILED with the reason, which then blocks', async () => {
    const collection = uniqueCollection('recon');
    const first = await run(collection, { correlationId: `recon-${fx.id}` });
    if (first.outcome !== 'launched') throw new Error('expected a launch');
    // The step started, then the cluster died under it.
    await store.transition({ correlationId: first.correlationId, collection, status: 'EMR_PROCESSING', triggeredTime: first.triggeredTime, processedDataStart: 0 }, ['EMR_LAUNCHED']);
    await stopClusters(graph.admin, { clusterId: first.clusterId });
    await fx.inbox.drain();

    const error = await run(collection, { correlationId: `after-${fx.id}` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailedRunsBlockError);
    expect(await store.get(first.correlationId, collection)).toMatchObject({ status: 'EMR_FAILED', emrClusterId: first.clusterId });
    expect(await reason(first.correlationId, collection)).toMatch(new RegExp(`cluster ${first.clusterId} is TERMINATED.* but the run was still EMR_PROCESSING`));
    const titles = (await fx.inbox.drain()).map((a) => a.title_text);
    expect(titles).toContain(`ingest-replica: run ${first.correlationId} marked EMR_FAILED`);
    expect(titles.some((t) => /unacknowledged failed runs/.test(t))).toBe(true);
  });

  it('marks stale LAMBDA_TRIGGERED rows of a trigger that died LAMBDA_FAILED, and ignores fresh ones of a live trigger', async () => {
    const stale = uniqueCollection('stale');
    const fresh = uniqueCollection('fresh');
    const longAgo = Date.now() - 3_600_000;
    const oldWriter = new DynamoStatusStore({ tableName: fx.statusTable, client: doc(), now: () => longAgo });
    await oldWriter.transition({ correlationId: `dead-${fx.id}`, collection: stale, status: 'LAMBDA_TRIGGERED', triggeredTime: longAgo }, [undefined]);
    await store.transition({ correlationId: `live-${fx.id}`, collection: fresh, status: 'LAMBDA_TRIGGERED', triggeredTime: Date.now() }, [undefined]);

    const launched = await run(fresh);
    expect(launched.outcome).toBe('launched');
    expect((await store.get(`live-${fx.id}`, fresh))?.status).toBe('LAMBDA_TRIGGERED');
    await stopClusters(graph.admin, { all: true });

    const error = await run(stale).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailedRunsBlockError);
    expect((await store.get(`dead-${fx.id}`, stale))?.status).toBe('LAMBDA_FAILED');
    expect(await reason(`dead-${fx.id}`, stale)).toMatch(/stopped without an outcome/);
  });
  it('fails an EMR_PROCESSING row with no cluster (a killed manual run) once stale, and waits for a fresh one', async () => {
    const dead = uniqueCollection('deadrun');
    const live = uniqueCollection('liverun');
    const longAgo = Date.now() - 3_600_000;
    const oldWriter = new DynamoStatusStore({ tableName: fx.statusTable, client: doc(), now: () => longAgo });
    await oldWriter.transition({ correlationId: `manual-${fx.id}`, collection: dead, status: 'EMR_PROCESSING', triggeredTime: longAgo }, [undefined]);
    await store.transition({ correlationId: `manual-live-${fx.id}`, collection: live, status: 'EMR_PROCESSING', triggeredTime: Date.now() }, [undefined]);

    // A runner that heartbeats its row is in flight: the trigger waits, then defers (not a failure).
    expect(await run(live).catch((e: unknown) => e)).toBeInstanceOf(RunDeferredError);
    expect((await store.get(`manual-live-${fx.id}`, live))?.status).toBe('EMR_PROCESSING');

    const error = await run(dead).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailedRunsBlockError);
    expect((await store.get(`manual-${fx.id}`, dead))?.status).toBe('EMR_FAILED');
    expect(await reason(`manual-${fx.id}`, dead)).toMatch(/runner of run manual-.* stopped: its EMR_PROCESSING row \(no cluster\)/);
  });

  it('lets ack clear a stale EMR_PROCESSING row with no cluster, saying what it did, and leaves a live one alone', async () => {
    const dead = uniqueCollection('ackdead');
    const longAgo = Date.now() - 3_600_000;
    const oldWriter = new DynamoStatusStore({ tableName: fx.statusTable, client: doc(), now: () => longAgo });
    await oldWriter.transition({ correlationId: `killed-${fx.id}`, collection: dead, status: 'EMR_PROCESSING', triggeredTime: longAgo }, [undefined]);
    await store.transition({ correlationId: `running-${fx.id}`, collection: dead, status: 'EMR_PROCESSING', triggeredTime: Date.now() }, [undefined]);

    const outcomes = await acknowledgeFailures({ collections: [dead] }, 'ops', Date.now(), store, 600_000);
    expect(outcomes.map((o) => o.correlationId)).toEqual([`killed-${fx.id}`]);
    expect((await store.get(`killed-${fx.id}`, dead))?.status).toBe('_EMR_FAILED');
    expect(await reason(`killed-${fx.id}`, dead)).toMatch(/cleared by ops/);
    expect((await store.get(`running-${fx.id}`, dead))?.status).toBe('EMR_PROCESSING');
  });
});
