import { DescribeClusterCommand } from '@aws-sdk/client-emr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopClusters } from '../../src/orchestrator/admin/index.js';
import { RunDeferredError, trigger, type TriggerResult } from '../../src/orchestrator/trigger/index.js';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { dynamoDocumentClient } from '../../src/wiring/aws-clients.js';
import { uniqueCollection } from '../support/local-stack.js';
import { orchestratorFixture, type OrchestratorFixture } from '../support/orchestrator.js';

const TRIGGERS = 10;
const ROUNDS = 3;

describe('concurrent triggers (moto)', () => {
  let fx: OrchestratorFixture;

  beforeAll(async () => {
    fx = await orchestratorFixture('concurrency');
  });
  afterAll(async () => fx?.cleanup());

  it(`${TRIGGERS} triggers at the same moment launch exactly one cluster; the others defer (${ROUNDS} rounds)`, async () => {
    const store = new DynamoStatusStore({ tableName: fx.statusTable, client: dynamoDocumentClient(fx.config().step) });
    for (let round = 0; round < ROUNDS; round += 1) {
      const collection = uniqueCollection('concurrent');
      const before = new Set((await fx.clusters()).map((c) => c.id));
      // Each trigger has its own clients, as ten Lambda invocations would.
      const graphs = Array.from({ length: TRIGGERS }, () => fx.graph());
      let outcomes: (TriggerResult | unknown)[];
      try {
        outcomes = await Promise.all(graphs.map((g, i) => trigger({
          force: true, dryRun: false, waitMs: 1500, collections: [collection], correlationId: `r${round}-t${i}-${fx.id}`,
          timing: { backoffBaseMs: 200, backoffCapMs: 400, lockPollMs: 50 },
        }, g.trigger).catch((e: unknown) => e)));
      } finally {
        for (const g of graphs) g.close();
      }
      const launched = outcomes.filter((o): o is Extract<TriggerResult, { outcome: 'launched' }> => (o as TriggerResult).outcome === 'launched');
      const deferred = outcomes.filter((o) => o instanceof RunDeferredError);
      expect(launched).toHaveLength(1);
      expect(deferred).toHaveLength(TRIGGERS - 1);

      const fresh = (await fx.clusters()).filter((c) => !before.has(c.id));
      expect(fresh.map((c) => c.id)).toEqual([launched[0]?.clusterId]);
      const { Cluster } = await fx.emr.send(new DescribeClusterCommand({ ClusterId: fresh[0]?.id }));
      expect(Cluster?.Tags).toContainEqual({ Key: 'CorrelationId', Value: launched[0]?.correlationId });

      const statuses = await Promise.all(Array.from({ length: TRIGGERS }, async (_, i) => (await store.get(`r${round}-t${i}-${fx.id}`, collection))?.status));
      expect(statuses.filter((s) => s === 'EMR_LAUNCHED')).toHaveLength(1);
      expect(statuses.filter((s) => s === 'DEFERRED')).toHaveLength(TRIGGERS - 1);
      await stopClusters(fx.graph().admin, { all: true });
    }
  });
});
