import { join } from 'node:path';
import { collectionFromName, selectCollections } from '../collections/index.js';
import { SecretsManagerCollections } from '../collections/secrets-adapter.js';
import { APPLICATION_TAG, type OrchestratorConfig } from '../config/orchestrator-config.js';
import { STEP_DURATIONS, STEP_SETTINGS, type StepConfig, type StepSettingKey } from '../config/step-config.js';
import { projectRoot } from '../shared/project-root.js';
import type { AckStatus } from '../orchestrator/admin/index.js';
import type { ClusterAdminPorts } from '../orchestrator/admin/index.js';
import type { Alert, AlertPublisher } from '../orchestrator/alerts/index.js';
import { SnsAlerts } from '../orchestrator/alerts/sns-adapter.js';
import { EmrAdapter } from '../orchestrator/emr/emr-adapter.js';
import { launchPlanner, readTemplates, type ClusterTemplates } from '../orchestrator/emr/index.js';
import { parseHBaseRoot, purgeClusterMetadata } from '../orchestrator/purge/index.js';
import { createS3MetadataObjects } from '../orchestrator/purge/s3-metadata-adapter.js';
import type { LaunchDecision } from '../orchestrator/schedule/index.js';
import type { TriggerPorts, TriggerStatus } from '../orchestrator/trigger/index.js';
import type { LocalRunPorts } from '../local/trigger/local-run.js';
import { s3ReplicaStandIn } from '../local/trigger/local-replica-adapter.js';
import { ensureLocalOrchestratorResources } from '../local/trigger/local-resources-adapter.js';
import { childStepProcess } from '../local/trigger/step-process-adapter.js';
import { toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { sleep } from '../shared/time.js';
import { DynamoStatusStore } from '../status/dynamo-status-adapter.js';
import { DynamoLaunchLock } from '../status/launch-lock-adapter.js';
import { StatusReasons } from '../status/status-reason-adapter.js';
import { dynamoDocumentClient, emrClient, s3Client, secretsClient, snsClient } from './aws-clients.js';

/** The orchestrator's object graph (trigger, cluster admin, ack), the same for the CLI and the Lambda handler. */
export interface OrchestratorGraph {
  readonly trigger: TriggerPorts;
  readonly admin: ClusterAdminPorts;
  readonly ack: AckStatus;
  /** Local mode's stand-ins for the cluster (step child process, replica metadata, purge). */
  local(): LocalRunPorts;
  /** The step flags that point a local child at the same endpoints as this process. */
  localStepFlags(): string[];
  /** On the local stack, creates the topic, buckets and security configuration the local defaults name. */
  prepareLocal(): Promise<void>;
  close(): void;
}

export function buildOrchestratorGraph(config: OrchestratorConfig, schedule: (at: number) => LaunchDecision, logger: Logger): OrchestratorGraph {
  const step = config.step;
  const dynamo = dynamoDocumentClient(step);
  const emr = emrClient(step);
  const sns = snsClient(step);
  const secrets = secretsClient(step);
  let s3: ReturnType<typeof s3Client> | undefined;
  const s3Once = (): ReturnType<typeof s3Client> => (s3 ??= s3Client(step));

  const store = new DynamoStatusStore({ tableName: step.statusTable, client: dynamo, logger });
  const reasons = new StatusReasons({ tableName: step.statusTable, client: dynamo });
  const status: TriggerStatus = {
    transition: (row, from, reason) => reasons.transition(row, from, reason),
    get: (id, collection) => store.get(id, collection),
    blockingRows: (collection) => store.blockingRows(collection),
  };
  const emrControl = new EmrAdapter({ client: emr, logger });
  let templates: ClusterTemplates | undefined;
  const planner = launchPlanner(config, step, () => (templates ??= readTemplates(config.templatesDir)));
  const alerts: AlertPublisher = config.alertsTopicArn === undefined
    ? logOnlyAlerts(logger)
    : new SnsAlerts({ client: sns, topicArn: config.alertsTopicArn });
  const source = new SecretsManagerCollections({ client: secrets, secretId: step.collectionsSecret, logger });

  return {
    trigger: {
      schedule,
      collections: (requested) => configuredCollections(source, requested, logger, step.collectionsSecret),
      status,
      statusTable: step.statusTable,
      lock: new DynamoLaunchLock({ tableName: step.statusTable, client: dynamo }),
      emr: emrControl,
      planner,
      alerts,
      clock: { now: Date.now, sleep, random: Math.random },
      logger,
    },
    admin: { emr: emrControl, planner, now: Date.now, logger },
    ack: store,
    local: () => {
      const root = parseHBaseRoot(requiredLocal(config.hbaseRootDir, 'hbaseRootDir'));
      const settings = { root, ownership: { namePrefix: config.clusterNamePrefix, tag: { key: APPLICATION_TAG.key, value: APPLICATION_TAG.value } } };
      const purgePorts = { clusters: emrControl, objects: createS3MetadataObjects({ s3: s3Once(), bucket: root.bucket }), logger };
      return {
        emr: emrControl,
        step: childStepProcess(join(projectRoot(), 'dist', 'src', 'cli', 'main.js'), process.env),
        replica: s3ReplicaStandIn(s3Once(), root),
        purge: (clusterId) => purgeClusterMetadata({ clusterId }, purgePorts, settings),
        logger,
      };
    },
    localStepFlags: () => localStepFlags(step),
    prepareLocal: async () => {
      if (!config.local) return;
      const buckets = [config.emrLogUri, config.artifactsUri, config.hbaseRootDir]
        .filter((u): u is string => u !== undefined)
        .map((u) => u.replace(/^s3:\/\//, '').split('/')[0] as string);
      await ensureLocalOrchestratorResources({ sns, s3: s3Once(), emr, region: step.awsRegion }, {
        buckets: [...new Set(buckets)],
        ...(config.alertsTopicArn ? { topicArn: config.alertsTopicArn } : {}),
        ...(config.securityConfiguration ? { securityConfiguration: config.securityConfiguration } : {}),
      });
    },
    close: () => {
      for (const client of [dynamo, emr, sns, secrets, s3]) client?.destroy();
    },
  };
}

async function configuredCollections(source: SecretsManagerCollections, requested: readonly string[], logger: Logger, secretId: string) {
  try {
    return selectCollections(await source.collections(), requested);
  } catch (error) {
    // Collections named on the command line need not be configured (as for `run`).
    if (requested.length === 0) throw error;
    logger.warn({ err: toError(error), secretId }, 'collections secret unreadable; using the names given');
    return requested.map((name) => collectionFromName(name));
  }
}

/** Without a topic (a dry run, or alerts not configured) alerts go to the log only, loudly. */
function logOnlyAlerts(logger: Logger): AlertPublisher {
  return {
    publish: (alert: Alert) => {
      logger.warn({ severity: alert.severity, title: alert.title, details: alert.details }, 'alert not sent: no alerts topic configured (INGEST_ALERTS_TOPIC_ARN)');
      return Promise.resolve();
    },
  };
}

function requiredLocal(value: string | undefined, name: string): string {
  if (value === undefined) throw new Error(`local mode needs ${name}`);
  return value;
}

/** Settings the launch request's step arguments already carry (see `runStepArgs`). */
const IN_STEP_ARGS = new Set(['statusTable', 'collectionsSecret', 'outputBucket', 'outputPrefix', 'awsRegion', 'kmsKeyId', 'keyService', 'dksUrl']);

/**
 * The rest of this process's step settings (endpoints, certificates, concurrency, …) as `run` flags: a local
 * child then talks to the same stack with the same settings, as the step on a cluster uses the cluster's.
 */
function localStepFlags(step: StepConfig): string[] {
  return (Object.keys(STEP_SETTINGS) as StepSettingKey[]).flatMap((key) => {
    const value = step[key];
    if (value === undefined || IN_STEP_ARGS.has(key)) return [];
    // Durations are milliseconds here and need a unit on the command line.
    return [STEP_SETTINGS[key].flag, STEP_DURATIONS.has(key) ? `${String(value)}ms` : flagText(value)];
  });
}

/** A setting's value as its flag takes it: `spark.a=1,spark.b=2` for the Spark settings' map. */
function flagText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  return Object.entries(value).map(([k, v]) => `${k}=${String(v)}`).join(',');
}
