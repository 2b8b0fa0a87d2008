import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeLegacySecret } from '../../src/collections/index.js';
import { createTriggerHandler } from '../../src/handlers/trigger.js';
import { silentLogger } from '../../src/shared/logger.js';
import { ConfigError } from '../../src/shared/errors.js';
import { stopClusters } from '../../src/orchestrator/admin/index.js';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { dynamoDocumentClient } from '../../src/wiring/aws-clients.js';
import { localStack, uniqueCollection } from '../support/local-stack.js';
import { orchestratorFixture, type OrchestratorFixture } from '../support/orchestrator.js';

describe('the trigger Lambda handler (configuration from the environment only)', () => {
  let fx: OrchestratorFixture;
  let env: NodeJS.ProcessEnv;
  let secrets: SecretsManagerClient;
  // The only collection the handler's collections secret lists: an event may name no other.
  const collection = uniqueCollection('lambda');
  const [db = '', table = ''] = collection.split(':');
  // A second configured one, for a launch of its own after the first collection's runs.
  const second = uniqueCollection('lambda');
  const [db2 = '', table2 = ''] = second.split(':');

  beforeAll(async () => {
    fx = await orchestratorFixture('handler');
    const stack = localStack();
    secrets = new SecretsManagerClient({ endpoint: stack.awsEndpointUrl, region: stack.awsRegion, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    await secrets.send(new CreateSecretCommand({ Name: `/handler/${fx.id}`, SecretString: encodeLegacySecret([{ db, table, pii: true }, { db: db2, table: table2, pii: true }]) }));
    env = {
      INGEST_COLLECTIONS_SECRET: `/handler/${fx.id}`,
      AWS_ENDPOINT_URL: stack.awsEndpointUrl,
      AWS_REGION: stack.awsRegion,
      INGEST_STATUS_TABLE: fx.statusTable,
      INGEST_CLUSTER_NAME_PREFIX: fx.clusterPrefix,
      INGEST_ALERTS_TOPIC_ARN: fx.topicArn,
      INGEST_EMR_LOG_URI: 's3://logs-bucket/emr',
      INGEST_ARTIFACTS_URI: 's3://artifacts-bucket/releases',
      INGEST_ARTIFACT_VERSION: '1.2.3',
      INGEST_HBASE_ROOT_DIR: 's3://ingest-hbase/hbase',
      INGEST_EMR_SECURITY_CONFIGURATION: 'ingest-replica',
      INGEST_EMR_SUBNET_ID: 'subnet-0abc',
      DKS_URL: 'https://dks.internal.example:8443',
      INGEST_DKS_CERT_SECRET: '/ingest-replica/dks-client',
      INGEST_KMS_KEY_ID: 'alias/ingest-replica-output',
      INGEST_OUTPUT_BUCKET: 'ingest-replica-output',
    };
  });
  afterAll(async () => {
    await secrets?.send(new DeleteSecretCommand({ SecretId: `/handler/${fx.id}`, ForceDeleteWithoutRecovery: true })).catch(() => undefined);
    secrets?.destroy();
    await fx?.cleanup();
  });

  it('refuses an event naming tables the collections secret does not list, launching nothing (issue 16 item 4)', async () => {
    const handle = createTriggerHandler(env, silentLogger);
    const error = await handle({ force: true, collections: ['hbase:meta', 'otherteam:payroll', collection] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/names "hbase:meta", "otherteam:payroll", not in the collections secret \/handler\//);
    expect(await fx.clusters()).toEqual([]);
    const store = new DynamoStatusStore({ tableName: fx.statusTable, client: dynamoDocumentClient(fx.config().step) });
    expect(await store.lastCompletedEnd('otherteam:payroll')).toBeUndefined();
  });

  it('returns refusals and deferrals as outcomes, launches when forced, and ends its wait before Lambda would stop it', async () => {
    const handle = createTriggerHandler(env, silentLogger);

    const refused = await handle({ at: '2026-01-04T03:00:00Z', collections: [collection] });
    expect(refused).toMatchObject({ outcome: 'refused' });
    expect((refused as { message: string }).message).toMatch(/maintenance window/);
    // {"force": true} never overrides a maintenance window; the field named for it does.
    const forced = await handle({ at: '2026-01-04T03:00:00Z', force: true, collections: [collection] });
    expect(forced).toMatchObject({ outcome: 'refused' });
    expect((forced as { message: string }).message).toMatch(/--force does not override a maintenance window.*"overrideMaintenanceWindow": true/);

    const launched = await handle({ force: true, collections: [collection] });
    expect(launched).toMatchObject({ outcome: 'launched', collections: [collection] });
    if (launched.outcome !== 'launched') return;
    const store = new DynamoStatusStore({ tableName: fx.statusTable, client: dynamoDocumentClient(fx.config().step) });
    expect(await store.get(launched.correlationId, collection)).toMatchObject({ status: 'EMR_LAUNCHED', emrClusterId: launched.clusterId });
    expect((await fx.clusters()).map((c) => c.id)).toEqual([launched.clusterId]);

    // 15 minutes of wait asked for, 61.5 s of Lambda time left: the wait is cut to 1.5 s, then it defers.
    const started = Date.now();
    const deferred = await handle({ force: true, collections: [collection], wait: '15m' }, { getRemainingTimeInMillis: () => 61_500 });
    expect(deferred).toMatchObject({ outcome: 'deferred' });
    expect(Date.now() - started).toBeLessThan(15_000);

    const graph = fx.graph();
    try {
      await stopClusters(graph.admin, { all: true });
      // Inside the window, the event field named for it launches (and the alert says so).
      await fx.inbox.drain();
      const overridden = await handle({ at: '2026-01-04T03:00:00Z', overrideMaintenanceWindow: true, collections: [second] });
      expect(overridden).toMatchObject({ outcome: 'launched' });
      expect((await fx.inbox.drain()).map((m) => m.title_text)).toContain('ingest-replica: launching INSIDE a maintenance window (overridden by --override-maintenance-window)');
      await stopClusters(graph.admin, { all: true });
    } finally {
      graph.close();
    }
  });

  it('refuses to start without a launch-required setting (the step\'s DKS URL, KMS key, …), naming each', async () => {
    const { DKS_URL: _d, INGEST_KMS_KEY_ID: _k, ...partial } = env;
    await expect(createTriggerHandler(partial, silentLogger)({})).rejects.toThrow(/needs 2 settings that are not set:\n {2}- dksUrl .*\n {2}- kmsKeyId /);
  });
});
