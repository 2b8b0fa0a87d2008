import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { projectRoot } from '../shared/project-root.js';
import { join } from 'node:path';
import { ConfigError } from '../shared/errors.js';
import { DEFAULT_LEASE } from '../step/lease-keeper.js';
import { DEFAULT_VISIBILITY_LAG_MS } from '../step/window.js';
import { DEFAULT_MAX_RECORD_BYTES } from '../step/record-decoder.js';
import { DEFAULT_SCANNER_BATCH_BYTES } from '../hbase/batch-sizer.js';
import { checkConfigFile, formatBytes, formatDuration, parsers, resolveSettings, setting, type Setting } from './settings.js';
import { isLocalStackTarget, parseServiceEndpoints, serviceEndpointsFromEnv, type ServiceEndpoints } from './aws-endpoints.js';

/** Everything the step runner (and the tools around it) needs, validated once and frozen. */
export interface StepConfig {
  readonly hbaseRestUrl: string;
  /** Who unwraps data keys: the Data Key Service (default) or KMS directly (KMS-wrapped deployments). */
  readonly keyService: 'dks' | 'kms';
  readonly dksUrl: string;
  readonly dksClientCert: string;
  readonly dksClientKey: string;
  readonly dksCaCert: string;
  readonly awsEndpointUrl: string | undefined;
  /** Per-service endpoints (AWS_ENDPOINT_URL_<SERVICE>), each overriding awsEndpointUrl for its service. */
  readonly awsServiceEndpoints: ServiceEndpoints;
  /** The endpoints are the local stack's emulators: test credentials and path-style S3 (aws-endpoints.ts). */
  readonly awsEmulator: boolean;
  readonly awsRegion: string;
  readonly outputBucket: string;
  readonly outputPrefix: string;
  readonly kmsKeyId: string | undefined;
  /** Loaded against a local stack started here: the only place output may be written without SSE-KMS. */
  readonly localStack: boolean;
  /** The Glue Data Catalog database every published run is registered in, as a partition of its collection's table. */
  readonly glueDatabase: string;
  readonly statusTable: string;
  readonly collectionsSecret: string;
  readonly concurrency: number;
  readonly scanConcurrency: number;
  readonly visibilityLagMs: number;
  readonly maxQuarantined: number;
  readonly maxRecordBytes: number;
  /** Bytes per HBase REST scanner response, at most (one cell is always read, whatever its size). */
  readonly scannerBatchBytes: number;
  /** DKS requests in flight at once (= connections to DKS), across every collection of the process. */
  readonly dksConcurrency: number;
  /** The collection lease: how long it lasts unrenewed (a dead runner's collection is free after this). */
  readonly leaseMs: number;
  /** How long a runner waits for another runner's lease on its collection before deferring it. */
  readonly leaseWaitMs: number;
  /** `spark`: one collection's ranges spread over the cluster by Spark (production); `single`: in this process. */
  readonly engine: 'spark' | 'single';
  /** Spark's installation (its `bin/spark-submit`). */
  readonly sparkHome: string;
  /** Spark master: `yarn` on EMR; `local[N,F]` or `local-cluster[...]` locally. */
  readonly sparkMaster: string;
  /** The Python Spark runs the driver and its workers with. */
  readonly sparkPython: string;
  /** Executor cores Spark gives one collection's job: the base of its task count (README, "Choosing the task count"). */
  readonly sparkExecutorCores: number;
  /** Tasks per executor core: enough to even out uneven ranges, few enough that start-up stays small. */
  readonly sparkTasksPerCore: number;
  /** Extra Spark settings for the job, e.g. spark.executor.memory=2g (the cluster's spark-defaults apply first). */
  readonly sparkConf: Readonly<Record<string, string>>;
  /** The HBase REST server the Spark workers read from: on EMR each node's own (127.0.0.1). */
  readonly workerHbaseRestUrl: string;
}

/** Every StepConfig field but `localStack` is a setting (flag, env, file); that one is a fact of the load. */
export type StepSettingKey = Exclude<keyof StepConfig, 'localStack'>;

export const STEP_SETTINGS = {
  keyService: setting('keyService', 'INGEST_KEY_SERVICE', 'who unwraps data keys: dks (Data Key Service) or kms', (t) => {
    const v = t.trim().toLowerCase();
    if (v !== 'dks' && v !== 'kms') throw new Error('must be dks or kms');
    return v;
  }),
  hbaseRestUrl: setting('hbaseRestUrl', 'HBASE_REST_URL', 'HBase REST server on the replica, e.g. http://127.0.0.1:8080', parsers.url),
  dksUrl: setting('dksUrl', 'DKS_URL', 'Data Key Service base URL, https', parsers.httpsUrl),
  dksClientCert: setting('dksClientCert', 'DKS_CLIENT_CERT', 'PEM file of the client certificate for DKS', parsers.text),
  dksClientKey: setting('dksClientKey', 'DKS_CLIENT_KEY', 'PEM file of the client private key for DKS', parsers.text),
  dksCaCert: setting('dksCaCert', 'DKS_CA_CERT', 'PEM file of the CA that signed the DKS server certificate', parsers.text),
  awsEndpointUrl: setting('awsEndpointUrl', 'AWS_ENDPOINT_URL', 'AWS endpoint for LocalStack/moto; unset for real AWS', parsers.url),
  awsServiceEndpoints: setting('awsServiceEndpoints', 'INGEST_AWS_SERVICE_ENDPOINTS',
    'per-service AWS endpoints, e.g. s3=http://127.0.0.1:4566,emr=http://127.0.0.1:5000 (AWS_ENDPOINT_URL_<SERVICE> sets one too)',
    (t) => parseServiceEndpoints(t, parsers.url)),
  awsEmulator: setting('awsEmulator', 'INGEST_AWS_EMULATOR',
    'true when the AWS endpoints are emulators (test credentials, path-style S3); default: true only for the local stack\'s loopback endpoints', parsers.boolean),
  awsRegion: setting('awsRegion', 'AWS_REGION', 'AWS region, e.g. eu-west-2', parsers.text),
  outputBucket: setting('outputBucket', 'INGEST_OUTPUT_BUCKET', 'S3 bucket for the Parquet output', parsers.text),
  outputPrefix: setting('outputPrefix', 'INGEST_OUTPUT_PREFIX', 'key prefix for the output, e.g. incremental', parsers.prefix),
  kmsKeyId: setting('kmsKeyId', 'INGEST_KMS_KEY_ID', 'KMS key id/ARN/alias for SSE-KMS of the output', parsers.text),
  glueDatabase: setting('glueDatabase', 'INGEST_GLUE_DATABASE', 'Glue Data Catalog database the published runs are registered in (one table per collection, a partition per run)', parsers.text),
  statusTable: setting('statusTable', 'INGEST_STATUS_TABLE', 'DynamoDB job status table', parsers.text),
  collectionsSecret: setting('collectionsSecret', 'INGEST_COLLECTIONS_SECRET', 'Secrets Manager id of the collections configuration', parsers.text),
  concurrency: setting('concurrency', 'INGEST_CONCURRENCY', 'collections processed at once', parsers.positiveInt, ['number']),
  scanConcurrency: setting('scanConcurrency', 'INGEST_SCAN_CONCURRENCY', 'region scans at once per collection', parsers.positiveInt, ['number']),
  visibilityLagMs: setting('visibilityLag', 'INGEST_VISIBILITY_LAG', 'how far behind the end time the window stops (replica visibility), e.g. 1h15m', parsers.duration),
  maxQuarantined: setting('maxQuarantined', 'INGEST_MAX_QUARANTINED', 'quarantined records per collection before it fails', parsers.nonNegativeInt, ['number']),
  maxRecordBytes: setting('maxRecordSize', 'INGEST_MAX_RECORD_SIZE', 'largest record (its envelope) decoded, e.g. 32MiB or a number of bytes; a larger one is quarantined as too-large, still encrypted', parsers.bytes, ['number']),
  scannerBatchBytes: setting('scannerBatchBytes', 'INGEST_SCANNER_BATCH_BYTES',
    'bytes per HBase scanner response, at most, e.g. 16MiB (the cells asked adapt to the sizes seen; a single larger cell is still read)', parsers.bytes, ['number']),
  dksConcurrency: setting('dksConcurrency', 'INGEST_DKS_CONCURRENCY', 'DKS requests in flight at once, for the whole step (bounds the load on DKS)', parsers.positiveInt, ['number']),
  leaseMs: setting('lease', 'INGEST_LEASE', 'collection lease duration: one runner per collection; a dead runner\'s collection is free after it, e.g. 2m', parsers.duration),
  leaseWaitMs: setting('leaseWait', 'INGEST_LEASE_WAIT', 'how long to wait for another runner of a collection before deferring it, e.g. 10m', parsers.duration),
  engine: setting('engine', 'INGEST_ENGINE', 'spark (spread over the cluster by Spark; default) or single (this process)', (t) => {
    const v = t.trim().toLowerCase();
    if (v !== 'spark' && v !== 'single') throw new Error('must be spark or single');
    return v;
  }),
  sparkHome: setting('sparkHome', 'SPARK_HOME', 'Spark installation holding bin/spark-submit', parsers.text),
  sparkMaster: setting('sparkMaster', 'SPARK_MASTER', 'Spark master: yarn on EMR, local[N,F] or local-cluster[W,C,M] locally', parsers.text),
  sparkPython: setting('sparkPython', 'PYSPARK_PYTHON', 'Python that runs the Spark driver and workers', parsers.text),
  sparkExecutorCores: setting('sparkExecutorCores', 'INGEST_SPARK_EXECUTOR_CORES', 'executor cores one collection\'s Spark job gets (tasks = cores × tasks per core)', parsers.positiveInt, ['number']),
  sparkTasksPerCore: setting('sparkTasksPerCore', 'INGEST_SPARK_TASKS_PER_CORE', 'Spark tasks per executor core for one collection', parsers.positiveInt, ['number']),
  sparkConf: setting('sparkConf', 'INGEST_SPARK_CONF', 'extra Spark settings, comma-separated key=value pairs', parseSparkConf),
  workerHbaseRestUrl: setting('workerHbaseRestUrl', 'INGEST_WORKER_HBASE_REST_URL', 'HBase REST server the Spark workers read from (on EMR: each node\'s own, http://127.0.0.1:8080)', parsers.url),
} satisfies Record<StepSettingKey, Setting<unknown>>;

/** The step settings that are durations (milliseconds in the config; a unit on the command line). */
export const STEP_DURATIONS: ReadonlySet<StepSettingKey> = new Set(['visibilityLagMs', 'leaseMs', 'leaseWaitMs']);

/** `a=1,b=2` → { a: '1', b: '2' }. */
function parseSparkConf(text: string): Record<string, string> {
  const conf: Record<string, string> = {};
  for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0 || !/^spark\.[A-Za-z0-9._-]+$/.test(pair.slice(0, at))) throw new Error(`${JSON.stringify(pair)} is not spark.<name>=<value>`);
    conf[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return conf;
}

/** The project's own Spark (`make py` installs pyspark into .tools/py): the local default. */
function projectSpark(root: string): { home: string; python: string } | undefined {
  const python = join(root, '.tools', 'py', 'bin', 'python');
  const lib = join(root, '.tools', 'py', 'lib');
  if (!existsSync(python) || !existsSync(lib)) return undefined;
  for (const version of readdirSync(lib)) {
    const home = join(lib, version, 'site-packages', 'pyspark');
    if (existsSync(join(home, 'bin', 'spark-submit'))) return { home, python };
  }
  return undefined;
}

/** What configuration takes from a local stack started here (src/local/stack-state.ts records it): its endpoints. */
export interface LocalStackEndpoints {
  readonly hbaseRestUrl: string;
  readonly awsEndpointUrl: string;
  /** Services sent elsewhere than awsEndpointUrl. */
  readonly awsServiceEndpoints?: ServiceEndpoints;
  readonly awsRegion: string;
  readonly dksUrl: string;
  readonly dksClientCert: string;
  readonly dksClientKey: string;
  readonly dksCaCert: string;
}

export interface ConfigSources {
  /** Flag values by setting key (as commander gives them). */
  readonly flags?: Readonly<Record<string, string | undefined>>;
  readonly env?: NodeJS.ProcessEnv;
  /** The local stack, when one was started here: its endpoints are the defaults. */
  readonly local?: LocalStackEndpoints;
  readonly localHome?: string;
  /** Whether the DKS client certificate settings must be present (not for commands that never call DKS). */
  readonly requireDks?: boolean;
  /** Resolve as on a cluster node (`trigger --dry-run`): EMR's Spark on YARN, never this checkout's pyspark. */
  readonly onCluster?: boolean;
}

/**
 * The defaults of the step's settings, as text (the local stack's endpoints when one runs here; the project's
 * pyspark locally, EMR's Spark otherwise). `--help` shows them.
 */
export function stepDefaults(sources: Pick<ConfigSources, 'env' | 'local' | 'localHome' | 'onCluster'> = {}): Partial<Record<StepSettingKey, string>> {
  const env = sources.env ?? process.env;
  const local = sources.local;
  const defaults: Partial<Record<StepSettingKey, string>> = {
    keyService: 'dks',
    hbaseRestUrl: local?.hbaseRestUrl ?? 'http://127.0.0.1:8080',
    dksUrl: local?.dksUrl ?? 'https://127.0.0.1:8443',
    dksClientCert: local?.dksClientCert ?? (sources.localHome && join(sources.localHome, 'certs', 'client.pem')),
    dksClientKey: local?.dksClientKey ?? (sources.localHome && join(sources.localHome, 'certs', 'client-key.pem')),
    dksCaCert: local?.dksCaCert ?? (sources.localHome && join(sources.localHome, 'certs', 'ca.pem')),
    awsEndpointUrl: local?.awsEndpointUrl,
    awsRegion: local?.awsRegion ?? env.AWS_DEFAULT_REGION ?? 'eu-west-2',
    outputBucket: 'ingest-replica-output',
    outputPrefix: 'incremental',
    kmsKeyId: local ? 'alias/ingest-replica-output' : undefined,
    glueDatabase: 'ingest_replica',
    statusTable: 'intraday-job-status',
    collectionsSecret: '/intraday/collections',
    concurrency: '2',
    scanConcurrency: '2',
    visibilityLagMs: formatDuration(DEFAULT_VISIBILITY_LAG_MS),
    maxQuarantined: '1000',
    maxRecordBytes: formatBytes(DEFAULT_MAX_RECORD_BYTES),
    scannerBatchBytes: formatBytes(DEFAULT_SCANNER_BATCH_BYTES),
    dksConcurrency: '8',
    leaseMs: formatDuration(DEFAULT_LEASE.leaseMs),
    leaseWaitMs: formatDuration(DEFAULT_LEASE.waitMs),
    engine: 'spark',
  };
  // Spark: the project's pyspark locally (local[cores,maxFailures]: plain local[N] ignores task.maxFailures);
  // EMR's own installation and YARN otherwise.
  const spark = sources.onCluster === true ? undefined : projectSpark(projectRoot());
  defaults.sparkHome = spark?.home ?? '/usr/lib/spark';
  defaults.sparkPython = spark?.python ?? 'python3';
  defaults.sparkMaster = spark ? 'local[2,4]' : 'yarn';
  defaults.sparkExecutorCores = spark ? '2' : '8';
  defaults.sparkTasksPerCore = '3';
  defaults.sparkConf = '';
  return defaults;
}

export function loadStepConfig(sources: ConfigSources): StepConfig {
  const local = sources.local;
  const env = sources.env ?? process.env;
  const file = readConfigFile(sources.flags?.config ?? env.INGEST_REPLICA_CONFIG);
  const defaults = stepDefaults(sources);
  const filePath = sources.flags?.config ?? env.INGEST_REPLICA_CONFIG;
  const fileFlags = resolveSettings(STEP_SETTINGS, { flags: sources.flags, env, file, ...(filePath ? { filePath } : {}) }, defaults);
  const values = {
    ...fileFlags,
    workerHbaseRestUrl: fileFlags.workerHbaseRestUrl ?? fileFlags.hbaseRestUrl,
    sparkConf: fileFlags.sparkConf ?? {},
    ...awsTargetOf(fileFlags as Parameters<typeof awsTargetOf>[0], env, local),
    localStack: local !== undefined,
  };
  const needDks = sources.requireDks !== false && values.keyService === 'dks';
  for (const name of needDks ? (['dksClientCert', 'dksClientKey', 'dksCaCert'] as const) : []) {
    const path = values[name];
    if (typeof path !== 'string') {
      const s = STEP_SETTINGS[name];
      throw new ConfigError(`${s.key} is not set. Fix: pass ${s.flag} <file> or set ${s.env} (${s.description}); on the local stack run \`ingest-replica local up\` first.`);
    }
  }
  return Object.freeze(values as unknown as StepConfig);
}

/**
 * Per service: the setting > AWS_ENDPOINT_URL_<SERVICE> > the local stack's own split (only while the general
 * endpoint is the stack's) > AWS_ENDPOINT_URL. The emulator behaviour follows the endpoints, not their presence.
 */
function awsTargetOf(
  values: { awsEndpointUrl?: string; awsServiceEndpoints?: ServiceEndpoints; awsEmulator?: boolean; awsRegion?: string },
  env: NodeJS.ProcessEnv,
  local: LocalStackEndpoints | undefined,
): { awsServiceEndpoints: ServiceEndpoints; awsEmulator: boolean } {
  const stackSplit = local !== undefined && values.awsEndpointUrl === local.awsEndpointUrl ? local.awsServiceEndpoints ?? {} : {};
  const awsServiceEndpoints = Object.freeze({ ...stackSplit, ...serviceEndpointsFromEnv(env, parsers.url), ...values.awsServiceEndpoints });
  const stackEndpoints = local ? [local.awsEndpointUrl, ...Object.values(local.awsServiceEndpoints ?? {})] : [];
  const awsEmulator = values.awsEmulator ?? isLocalStackTarget({ awsEndpointUrl: values.awsEndpointUrl, awsServiceEndpoints, awsRegion: '' }, stackEndpoints);
  return { awsServiceEndpoints, awsEmulator };
}

/**
 * The JSON config file of settings (`--config` / INGEST_REPLICA_CONFIG), shared by every config module. An unknown
 * key or a value of the wrong JSON type is an error naming the key and the file (`checkConfigFile`).
 */
export function readConfigFile(path: string | undefined, check: (file: Record<string, unknown>, path: string) => void = checkConfigFile): Record<string, unknown> {
  if (path === undefined) return {};
  if (!existsSync(path)) throw new ConfigError(`config file ${path} does not exist. Fix: pass --config with an existing JSON file or unset INGEST_REPLICA_CONFIG.`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the top level must be an object');
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid: ${(error as Error).message}. Fix: write a JSON object of settings, e.g. {"outputBucket":"my-bucket"}.`);
  }
  check(parsed as Record<string, unknown>, path);
  return parsed as Record<string, unknown>;
}
