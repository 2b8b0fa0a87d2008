import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../shared/errors.js';
import { projectRoot } from '../shared/project-root.js';
import { isExplicit, parseDuration, parsers, resolveSettings, setting, whereToSet, type Setting } from './settings.js';
import { loadStepConfig, readConfigFile, STEP_SETTINGS, type ConfigSources, type StepConfig, type StepSettingKey } from './step-config.js';

/**
 * What the orchestrator (trigger, cluster admin) needs beyond the step's settings: how to launch the replica
 * on EMR, where alerts go, and how long a trigger waits. Validated once and frozen; every value comes from a
 * flag, the environment, the JSON config file, the local stack (when one runs here) or a default, in that order.
 */
export interface OrchestratorSettings {
  readonly emrReleaseLabel: string;
  readonly emrLogUri: string | undefined;
  readonly artifactsUri: string | undefined;
  readonly artifactVersion: string | undefined;
  readonly stepConfigUri: string | undefined;
  readonly dksCertSecret: string | undefined;
  readonly logRetentionDays: number;
  readonly hbaseRootDir: string | undefined;
  readonly securityConfiguration: string | undefined;
  readonly subnetId: string | undefined;
  readonly ec2KeyName: string | undefined;
  readonly serviceRole: string;
  readonly instanceProfile: string;
  readonly masterInstanceType: string;
  readonly coreInstanceType: string;
  readonly coreInstanceCount: number;
  readonly idleTimeoutMs: number;
  readonly alertsTopicArn: string | undefined;
  readonly waitMs: number;
  readonly clusterNamePrefix: string;
  readonly templatesDir: string;
  readonly installDir: string;
}

export interface OrchestratorConfig extends OrchestratorSettings {
  /** The step's settings the orchestrator shares with it: AWS endpoint and region, status table, secret, output. */
  readonly step: StepConfig;
  /** True when the defaults came from a local stack started here (moto): local resources may be created lazily. */
  readonly local: boolean;
}

/** Every cluster we launch carries this tag; with the name prefix it decides which clusters are ours. */
export const APPLICATION_TAG = { key: 'Application', value: 'ingest-replica' } as const;
/** The metadata purge matches cluster names starting with this (DESIGN.md §3.6), so every prefix must too. */
export const PURGE_NAME_PREFIX = 'ingest-replica';

/** The retention periods CloudWatch Logs accepts (-1: never expire). */
const CLOUDWATCH_RETENTION_DAYS = [-1, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const s3Uri = (t: string): string => {
  const v = t.trim().replace(/\/+$/, '');
  if (!/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(v)) throw new Error('must be an s3:// URI such as s3://bucket/prefix');
  return v;
};

export const ORCHESTRATOR_SETTINGS = {
  emrReleaseLabel: setting('emrReleaseLabel', 'INGEST_EMR_RELEASE', 'EMR release of the replica cluster, 7.x, e.g. emr-7.9.0', (t) => {
    if (!/^emr-7\.\d+\.\d+$/.test(t.trim())) throw new Error('must be an EMR 7.x release label such as emr-7.9.0');
    return t.trim();
  }),
  emrLogUri: setting('emrLogUri', 'INGEST_EMR_LOG_URI', 'S3 URI for the cluster\'s EMR logs', s3Uri),
  artifactsUri: setting('artifactsUri', 'INGEST_ARTIFACTS_URI', 'S3 URI the release is uploaded under (ingest-replica/<artifact>.tar.gz, emr-config/…)', s3Uri),
  artifactVersion: setting('artifactVersion', 'INGEST_ARTIFACT_VERSION', 'version of the artifact the cluster installs (ingest-replica-<version>.tar.gz)', (t) => {
    if (!/^[0-9A-Za-z][0-9A-Za-z._-]*$/.test(t.trim())) throw new Error("must be a version of letters, digits, '.', '_' and '-'");
    return t.trim();
  }),
  stepConfigUri: setting('stepConfigUri', 'INGEST_STEP_CONFIG_URI', 'S3 URI of the JSON settings file the step uses on the cluster (DKS URL, bucket, KMS key, …)', s3Uri),
  dksCertSecret: setting('dksCertSecret', 'INGEST_DKS_CERT_SECRET', 'Secrets Manager id of the DKS client certificate, key and CA installed on the cluster', parsers.text),
  logRetentionDays: setting('logRetentionDays', 'INGEST_LOG_RETENTION_DAYS', 'retention of the log group /app/ingest-replica-incremental, in days (a CloudWatch value, e.g. 30)', (t) => {
    const n = Number(t);
    if (!CLOUDWATCH_RETENTION_DAYS.includes(n)) throw new Error(`must be one of ${CLOUDWATCH_RETENTION_DAYS.join(', ')}`);
    return n;
  }, ['number']),
  hbaseRootDir: setting('hbaseRootDir', 'INGEST_HBASE_ROOT_DIR', 'S3 root dir of the primary ingest-hbase, which the replica reads', s3Uri),
  securityConfiguration: setting('securityConfiguration', 'INGEST_EMR_SECURITY_CONFIGURATION', 'name of the EMR security configuration', parsers.text),
  subnetId: setting('subnetId', 'INGEST_EMR_SUBNET_ID', 'subnet the cluster runs in, e.g. subnet-0abc', parsers.text),
  ec2KeyName: setting('ec2KeyName', 'INGEST_EMR_KEY_NAME', 'optional EC2 key pair for SSH to the cluster', parsers.text),
  serviceRole: setting('serviceRole', 'INGEST_EMR_SERVICE_ROLE', 'EMR service role', parsers.text),
  instanceProfile: setting('instanceProfile', 'INGEST_EMR_INSTANCE_PROFILE', 'EC2 instance profile of the cluster nodes (JobFlowRole)', parsers.text),
  masterInstanceType: setting('masterInstanceType', 'INGEST_EMR_MASTER_INSTANCE_TYPE', 'instance type of the master node', parsers.text),
  coreInstanceType: setting('coreInstanceType', 'INGEST_EMR_CORE_INSTANCE_TYPE', 'instance type of the core nodes (HBase region servers)', parsers.text),
  coreInstanceCount: setting('coreInstanceCount', 'INGEST_EMR_CORE_INSTANCE_COUNT', 'number of core nodes', parsers.positiveInt, ['number']),
  idleTimeoutMs: setting('idleTimeout', 'INGEST_EMR_IDLE_TIMEOUT', 'idle auto-termination of the cluster, 1m to 7d, e.g. 15m', (t) => {
    const ms = parseDuration(t);
    if (ms < 60_000 || ms > 7 * 86_400_000 || ms % 1000 !== 0) throw new Error('must be whole seconds between 1m and 7d');
    return ms;
  }),
  alertsTopicArn: setting('alertsTopicArn', 'INGEST_ALERTS_TOPIC_ARN', 'SNS topic ARN for alerts to the monitoring channel', (t) => {
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/.test(t.trim())) throw new Error('must be an SNS topic ARN');
    return t.trim();
  }),
  waitMs: setting('wait', 'INGEST_TRIGGER_WAIT', 'how long a trigger waits for an active run before it defers, e.g. 15m', parsers.duration),
  clusterNamePrefix: setting('clusterNamePrefix', 'INGEST_CLUSTER_NAME_PREFIX', `name prefix of our clusters, starting with ${PURGE_NAME_PREFIX}`, (t) => {
    const v = t.trim();
    if (!v.startsWith(PURGE_NAME_PREFIX) || !/^[A-Za-z0-9_-]{1,120}$/.test(v)) {
      throw new Error(`must start with ${PURGE_NAME_PREFIX} (the metadata purge matches it) and hold only letters, digits, '-' and '_'`);
    }
    return v;
  }),
  templatesDir: setting('emrTemplates', 'INGEST_EMR_TEMPLATES', 'folder of the cluster templates (emr-config/cluster)', parsers.text),
  installDir: setting('installDir', 'INGEST_INSTALL_DIR', 'where the bootstrap action installs the CLI on the cluster', parsers.text),
} satisfies Record<keyof OrchestratorSettings, Setting<unknown>>;

/**
 * One setting a launch outside the local stack cannot do without. On the local stack each has a default (or is
 * not needed); anywhere else it must be set explicitly, by flag, environment or config file: a default there
 * would point the cluster at the local stack (DKS on 127.0.0.1, no SSE-KMS key, the seeder's bucket).
 */
export interface LaunchRequirement {
  /** The config file key (and flag, in kebab case). */
  readonly key: string;
  readonly flag: string;
  /** The environment variable: what the trigger Lambda's environment must carry. */
  readonly env: string;
  readonly description: string;
  /** `cluster`: every replica launch (trigger, `cluster start`); `step`: what the step needs in AWS; `trigger`: the trigger's own. */
  readonly part: 'cluster' | 'step' | 'trigger';
  /** Needed only when DKS unwraps the data keys (INGEST_KEY_SERVICE=dks, the default). */
  readonly dksOnly: boolean;
  /** The step settings that carry it on the cluster node (the step refuses to start on EMR without them). */
  readonly onNode: readonly StepSettingKey[];
}

const requirement = (s: Setting<unknown>, part: LaunchRequirement['part'], onNode: readonly StepSettingKey[] = [], dksOnly = false): LaunchRequirement =>
  Object.freeze({ key: s.key, flag: s.flag, env: s.env, description: s.description, part, dksOnly, onNode });

/**
 * THE list of settings a launch outside the local stack requires (the trigger, its Lambda, `cluster start` for
 * the `cluster` part). A deployment builds the trigger Lambda's environment from it (`env` of each entry).
 * The step's part travels to the cluster in the step's arguments (DKS URL, bucket, KMS key, collections secret)
 * or through the bootstrap action (the DKS client certificate, key and CA from `dksCertSecret`).
 */
export const LAUNCH_REQUIRED: readonly LaunchRequirement[] = Object.freeze([
  requirement(ORCHESTRATOR_SETTINGS.emrLogUri, 'cluster'),
  requirement(ORCHESTRATOR_SETTINGS.artifactsUri, 'cluster'),
  requirement(ORCHESTRATOR_SETTINGS.hbaseRootDir, 'cluster'),
  requirement(ORCHESTRATOR_SETTINGS.securityConfiguration, 'cluster'),
  requirement(ORCHESTRATOR_SETTINGS.subnetId, 'cluster'),
  requirement(STEP_SETTINGS.dksUrl, 'step', ['dksUrl'], true),
  requirement(ORCHESTRATOR_SETTINGS.dksCertSecret, 'step', ['dksClientCert', 'dksClientKey', 'dksCaCert'], true),
  requirement(STEP_SETTINGS.kmsKeyId, 'step', ['kmsKeyId']),
  requirement(STEP_SETTINGS.outputBucket, 'step', ['outputBucket']),
  requirement(STEP_SETTINGS.collectionsSecret, 'step', ['collectionsSecret']),
  requirement(ORCHESTRATOR_SETTINGS.alertsTopicArn, 'trigger'),
]);

/** What `cluster start` needs: the replica itself, no step. */
export const CLUSTER_REQUIRED: readonly LaunchRequirement[] = LAUNCH_REQUIRED.filter((r) => r.part === 'cluster');

/** One error naming every missing setting and where to set it (exit 2). */
export function missingLaunchSettings(missing: readonly Pick<LaunchRequirement, 'key' | 'flag' | 'env' | 'description'>[], where: string, hint: string): ConfigError {
  const lines = missing.map((m) => `  - ${m.key} (${m.description}): set ${whereToSet(m)}`);
  return new ConfigError(`${where} needs ${missing.length === 1 ? 'a setting that is' : `${missing.length} settings that are`} not set:\n${lines.join('\n')}\n${hint}`, {
    context: { settings: missing.map((m) => m.key).join(',') },
  });
}

/** Names of the resources the local defaults point at (created lazily on moto by the orchestrator graph). */
export const LOCAL_ORCHESTRATOR_NAMES = {
  alertsTopic: 'ingest-replica-alerts',
  logBucket: 'ingest-replica-emr-logs',
  artifactsBucket: 'ingest-replica-artifacts',
  hbaseRootBucket: 'ingest-replica-hbase-root',
  securityConfiguration: 'ingest-replica-local',
} as const;

/** moto's (and LocalStack's) account id: topic ARNs on the local endpoint live in it. */
const LOCAL_ACCOUNT = '123456789012';

export interface OrchestratorSources extends ConfigSources {
  /** Settings that must be set explicitly outside the local stack: `LAUNCH_REQUIRED`, or `CLUSTER_REQUIRED`. */
  readonly require?: readonly LaunchRequirement[];
}

export function loadOrchestratorConfig(sources: OrchestratorSources): OrchestratorConfig {
  const env = sources.env ?? process.env;
  const step = loadStepConfig({ ...sources, requireDks: false });
  const file = readConfigFile(sources.flags?.config ?? env.INGEST_REPLICA_CONFIG);
  const local = sources.local !== undefined;
  const defaults: Partial<Record<keyof OrchestratorSettings, string>> = {
    emrReleaseLabel: 'emr-7.9.0',
    serviceRole: 'EMR_DefaultRole',
    instanceProfile: 'EMR_EC2_DefaultRole',
    masterInstanceType: 'm5.xlarge',
    coreInstanceType: 'm5.2xlarge',
    coreInstanceCount: '2',
    idleTimeoutMs: '15m',
    logRetentionDays: '30',
    artifactVersion: ownVersion(),
    waitMs: '15m',
    clusterNamePrefix: PURGE_NAME_PREFIX,
    templatesDir: join(projectRoot(), 'emr-config', 'cluster'),
    installDir: '/opt/ingest-replica',
    ...(local
      ? {
          emrLogUri: `s3://${LOCAL_ORCHESTRATOR_NAMES.logBucket}/logs`,
          artifactsUri: `s3://${LOCAL_ORCHESTRATOR_NAMES.artifactsBucket}/local`,
          hbaseRootDir: `s3://${LOCAL_ORCHESTRATOR_NAMES.hbaseRootBucket}/hbase`,
          securityConfiguration: LOCAL_ORCHESTRATOR_NAMES.securityConfiguration,
          alertsTopicArn: `arn:aws:sns:${step.awsRegion}:${LOCAL_ACCOUNT}:${LOCAL_ORCHESTRATOR_NAMES.alertsTopic}`,
        }
      : {}),
  };
  const filePath = sources.flags?.config ?? env.INGEST_REPLICA_CONFIG;
  const values: Record<string, unknown> = resolveSettings(ORCHESTRATOR_SETTINGS, { flags: sources.flags, env, file, ...(filePath ? { filePath } : {}) }, defaults);
  // On the local stack every requirement has a local default or is not needed (moto needs no subnet, the
  // local child reads the stack's certificates).
  const missing = local ? [] : (sources.require ?? []).filter((r) =>
    !(r.dksOnly && step.keyService !== 'dks') && !isExplicit(r, { flags: sources.flags, env, file }));
  if (missing.length > 0) {
    throw missingLaunchSettings(missing, 'a launch outside the local stack', 'Nothing was launched. On the local stack these default to the stack\'s own (run `ingest-replica local up`).');
  }
  return Object.freeze({ ...(values as unknown as OrchestratorSettings), step, local });
}

/** The version of this checkout or image (its package.json), which is what a cluster should install by default. */
function ownVersion(): string | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : undefined;
  } catch {
    return undefined;
  }
}

export function missingSetting(name: keyof OrchestratorSettings): ConfigError {
  const s = ORCHESTRATOR_SETTINGS[name];
  return new ConfigError(`${s.key} is not set. Fix: pass ${s.flag} <value> or set ${s.env} (${s.description}).`, { context: { setting: s.key } });
}
