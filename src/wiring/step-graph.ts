import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../shared/project-root.js';
import { SparkSubmitJobs } from '../spark/spark-submit-adapter.js';
import { workerEntry } from '../spark/worker-entry.js';
import type { CollectionEngine } from '../step/collection-run.js';
import { taskTarget } from '../step/range-plan.js';
import { sparkEngine } from '../step/spark-engine.js';
import { collectionFromName, selectCollections } from '../collections/index.js';
import { SecretsManagerCollections } from '../collections/secrets-adapter.js';
import type { StepConfig } from '../config/step-config.js';
import { HBaseRestSource } from '../hbase/rest-adapter.js';
import { DksKeyService } from '../keys/dks-adapter.js';
import { CachingKeyService } from '../keys/key-cache.js';
import { KmsKeyService } from '../keys/kms-adapter.js';
import { GlueCatalog } from '../sink/glue-catalog.js';
import { createS3ObjectStore, createS3RecordSink } from '../sink/s3-adapter.js';
import { DynamoCollectionLease } from '../status/collection-lease-adapter.js';
import { DynamoStatusStore } from '../status/dynamo-status-adapter.js';
import { ConfigError, toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { CollectionConfig } from '../shared/types.js';
import type { StepPortsFactory } from '../step/run-step.js';
import { dynamoDocumentClient, glueClient, kmsClient, s3Client, secretsClient } from './aws-clients.js';

/** The step's object graph: adapters built from the validated config, shared where they hold connections. */
export interface StepGraph {
  readonly portsFor: StepPortsFactory;
  readonly collections: (requested: readonly string[]) => Promise<CollectionConfig[]>;
  close(): Promise<void>;
}

/**
 * The `spark` engine over spark-submit: each task runs this CLI's `scan-range` with the step's settings (the
 * workers read from their own node's REST server). `conf` adds Spark settings (tests: local-cluster memory).
 */
export function sparkEngineOf(config: StepConfig, overrides: { readonly env?: NodeJS.ProcessEnv } = {}): CollectionEngine {
  const root = projectRoot();
  const workerConfig: StepConfig = { ...config, hbaseRestUrl: config.workerHbaseRestUrl, engine: 'single' };
  const jobs = new SparkSubmitJobs({
    sparkHome: config.sparkHome,
    master: config.sparkMaster,
    python: config.sparkPython,
    conf: config.sparkConf,
    driver: join(root, 'spark', 'driver.py'),
    localLog4j: join(root, 'spark', 'log4j2.properties'),
    worker: {
      command: [process.execPath, '--enable-source-maps', '--max-semi-space-size=8', workerEntry(), 'scan-range'],
      config: workerConfig,
      env: { MALLOC_MMAP_THRESHOLD_: '1048576' },
    },
    ...(overrides.env ? { env: overrides.env } : {}),
  });
  return sparkEngine(jobs, { tasks: taskTarget(config.sparkExecutorCores, config.sparkTasksPerCore) });
}

export interface StepGraphOptions {
  /** The environment spark-submit (and so every task's worker) starts with (default: this process's). */
  readonly sparkEnv?: NodeJS.ProcessEnv;
}

export function buildStepGraph(config: StepConfig, logger: Logger, options: StepGraphOptions = {}): StepGraph {
  const pem = (path: string, setting: string): Buffer => {
    if (!existsSync(path)) throw new ConfigError(`${setting} file ${path} does not exist. Fix: point ${setting} at a PEM file (on the local stack run \`ingest-replica local up\`).`);
    return readFileSync(path);
  };
  const hbase = new HBaseRestSource({ url: config.hbaseRestUrl, batchBytes: config.scannerBatchBytes, logger });
  const keyService = config.keyService === 'kms'
    ? new KmsKeyService({ client: kmsClient(config) })
    : new DksKeyService({
      url: config.dksUrl,
      caCert: pem(config.dksCaCert, 'DKS_CA_CERT'),
      clientCert: pem(config.dksClientCert, 'DKS_CLIENT_CERT'),
      clientKey: pem(config.dksClientKey, 'DKS_CLIENT_KEY'),
      connections: config.dksConcurrency,
      logger,
    });
  const s3 = s3Client(config);
  const sink = createS3RecordSink({ s3, bucket: config.outputBucket, ...(config.kmsKeyId ? { kmsKeyId: config.kmsKeyId } : {}), allowUnencrypted: config.localStack === true, logger });
  const catalog = new GlueCatalog({ glue: glueClient(config), store: createS3ObjectStore({ s3, bucket: config.outputBucket }), database: config.glueDatabase });
  const dynamo = dynamoDocumentClient(config);
  const status = new DynamoStatusStore({ tableName: config.statusTable, client: dynamo, logger });
  const lease = new DynamoCollectionLease({ tableName: config.statusTable, client: dynamo });
  const engine = config.engine === 'spark' ? sparkEngineOf(config, options.sparkEnv ? { env: options.sparkEnv } : {}) : undefined;
  const secrets = new SecretsManagerCollections({ client: secretsClient(config), secretId: config.collectionsSecret, logger });
  return {
    portsFor: () => {
      // One cache per collection so its counters are its own; data keys are not shared across collections.
      // DKS retries too: a scoped view shares the connections (the bound on DKS load) but counts its own.
      const keys = new CachingKeyService(keyService instanceof DksKeyService ? keyService.scoped() : keyService);
      return { hbase, keys, sink, status, lease, catalog, keyStats: () => keys.stats(), ...(engine ? { engine } : {}) };
    },
    collections: async (requested) => {
      let configured: CollectionConfig[] = [];
      try {
        configured = await secrets.collections();
      } catch (error) {
        // Collections named on the command line need not be configured: tags then come from the name.
        if (requested.length === 0) throw error;
        logger.warn({ err: toError(error), secretId: config.collectionsSecret }, 'collections secret unreadable; using the names given');
        return requested.map((name) => collectionFromName(name));
      }
      return selectCollections(configured, requested);
    },
    close: async () => {
      await Promise.all([hbase.close(), 'close' in keyService ? keyService.close() : undefined]);
      s3.destroy();
    },
  };
}
