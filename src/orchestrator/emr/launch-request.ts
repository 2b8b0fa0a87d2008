import { APPLICATION_TAG, missingSetting, type OrchestratorSettings } from '../../config/orchestrator-config.js';
import type { StepConfig } from '../../config/step-config.js';
import type { CollectionName } from '../../shared/types.js';
import { TemplateError } from './errors.js';
import type { ClusterPurpose } from './cluster-naming.js';
import type { RunJobFlowRequest } from './ports.js';
import { fillTemplate, type ClusterTemplates, type TemplateParams } from './templates.js';

/** The port the bootstrap action starts the HBase REST server on; the step's default HBASE_REST_URL names it. */
export const HBASE_REST_PORT = 8080;

/** What one launch is: the purpose decides whether it carries the step and whether it stays up without one. */
export interface LaunchSpec {
  readonly purpose: ClusterPurpose;
  readonly name: string;
  readonly correlationId: string;
  /** The step's arguments after the wrapper script (`run-step.sh`); incremental runs only. */
  readonly stepArgs?: readonly string[];
  /** Idle auto-termination; undefined leaves the cluster up until stopped (admin clusters by default). */
  readonly idleTimeoutMs?: number;
}

/** Template parameter → the setting that supplies it, so an unset one is reported with its fix. */
const PARAM_SETTINGS: Readonly<Record<string, keyof OrchestratorSettings>> = {
  RELEASE_LABEL: 'emrReleaseLabel',
  LOG_URI: 'emrLogUri',
  ARTIFACTS_URI: 'artifactsUri',
  ARTIFACT_VERSION: 'artifactVersion',
  HBASE_ROOT_DIR: 'hbaseRootDir',
  SECURITY_CONFIGURATION: 'securityConfiguration',
  SUBNET_ID: 'subnetId',
  EC2_KEY_NAME: 'ec2KeyName',
  SERVICE_ROLE: 'serviceRole',
  INSTANCE_PROFILE: 'instanceProfile',
  MASTER_INSTANCE_TYPE: 'masterInstanceType',
  CORE_INSTANCE_TYPE: 'coreInstanceType',
  CORE_INSTANCE_COUNT: 'coreInstanceCount',
  INSTALL_DIR: 'installDir',
};

/**
 * Parameters a launch may go without: the property holding one is then left out of the request. A subnet is
 * optional here because moto needs none; in AWS the configuration requires it (`LAUNCH_REQUIRED`).
 */
export const OPTIONAL_PARAMS: ReadonlySet<string> = new Set(['SUBNET_ID', 'EC2_KEY_NAME', 'IDLE_TIMEOUT_SECONDS']);

/** The parameters the templates may use (documented one by one in emr-config/cluster/README.md). */
export function launchParameters(config: OrchestratorSettings, spec: LaunchSpec): TemplateParams {
  return {
    CLUSTER_NAME: spec.name,
    PURPOSE: spec.purpose,
    CORRELATION_ID: spec.correlationId,
    APPLICATION_TAG_KEY: APPLICATION_TAG.key,
    APPLICATION_TAG_VALUE: APPLICATION_TAG.value,
    RELEASE_LABEL: config.emrReleaseLabel,
    LOG_URI: config.emrLogUri,
    ARTIFACTS_URI: config.artifactsUri,
    ARTIFACT_VERSION: config.artifactVersion,
    // Optional options of install-ingest-replica.sh, present only when set.
    INSTALL_OPTIONS: [
      ...(config.stepConfigUri === undefined ? [] : ['--config', config.stepConfigUri]),
      ...(config.dksCertSecret === undefined ? [] : ['--dks-cert-secret', config.dksCertSecret]),
    ],
    LOG_RETENTION_DAYS: String(config.logRetentionDays),
    HBASE_REST_PORT: String(HBASE_REST_PORT),
    HBASE_ROOT_DIR: config.hbaseRootDir,
    SECURITY_CONFIGURATION: config.securityConfiguration,
    SUBNET_ID: config.subnetId,
    EC2_KEY_NAME: config.ec2KeyName,
    SERVICE_ROLE: config.serviceRole,
    INSTANCE_PROFILE: config.instanceProfile,
    MASTER_INSTANCE_TYPE: config.masterInstanceType,
    CORE_INSTANCE_TYPE: config.coreInstanceType,
    CORE_INSTANCE_COUNT: config.coreInstanceCount,
    INSTALL_DIR: config.installDir,
    // Not kept alive without steps: the cluster ends with its step. Admin clusters have no step and stay.
    KEEP_ALIVE: spec.purpose === 'admin',
    IDLE_TIMEOUT_SECONDS: spec.idleTimeoutMs === undefined ? undefined : Math.round(spec.idleTimeoutMs / 1000),
    STEP_ARGS: spec.stepArgs === undefined ? undefined : [...spec.stepArgs],
  };
}

/**
 * The RunJobFlow request: `cluster.json` with `Instances`, `Configurations` and `BootstrapActions` from their
 * templates, and `Steps` from `steps.json` for a run (an admin cluster has none).
 */
export function buildRunJobFlowRequest(templates: ClusterTemplates, config: OrchestratorSettings, spec: LaunchSpec): RunJobFlowRequest {
  if (spec.purpose === 'incremental' && (spec.stepArgs === undefined || spec.stepArgs.length === 0)) {
    throw new TemplateError('an incremental launch needs the step\'s arguments');
  }
  const params = launchParameters(config, spec);
  const unset = (param: string): Error => {
    const settingName = PARAM_SETTINGS[param];
    return settingName === undefined
      ? new TemplateError(`template parameter ${param} is unset for a ${spec.purpose} launch`, { context: { param } })
      : missingSetting(settingName);
  };
  const part = (name: keyof ClusterTemplates): unknown => fillTemplate(templates[name], params, { template: name, unset, optional: OPTIONAL_PARAMS });
  const cluster = part('cluster');
  if (cluster === null || typeof cluster !== 'object' || Array.isArray(cluster)) throw new TemplateError('cluster template must be a JSON object');
  const request: Record<string, unknown> = {
    ...(cluster as Record<string, unknown>),
    Instances: part('instances'),
    Configurations: part('configurations'),
    BootstrapActions: part('bootstrapActions'),
    ...(spec.purpose === 'incremental' ? { Steps: part('steps') } : {}),
  };
  for (const key of Object.keys(request)) if (request[key] === undefined) delete request[key];
  if (request.Name !== spec.name) throw new TemplateError(`cluster template must set "Name": "\${CLUSTER_NAME}" (got ${JSON.stringify(request.Name)})`);
  return request as RunJobFlowRequest;
}

/** The run's step arguments: what `run-step.sh` passes on to `ingest-replica run`. */
export interface RunArguments {
  readonly correlationId: string;
  readonly triggeredTime: number;
  readonly endTime: number;
  readonly collections: readonly CollectionName[];
}

/**
 * `run` flags for the step. Besides the run's own arguments, the settings the step must share with the
 * trigger travel with it (the status table above all: the step must write the rows the trigger wrote).
 */
export function runStepArgs(run: RunArguments, step: StepConfig): string[] {
  return [
    '--correlation-id', run.correlationId,
    '--triggered-time', String(run.triggeredTime),
    '--end-time', String(run.endTime),
    '--status-table', step.statusTable,
    '--collections-secret', step.collectionsSecret,
    '--output-bucket', step.outputBucket,
    '--output-prefix', step.outputPrefix,
    '--aws-region', step.awsRegion,
    ...(step.kmsKeyId === undefined ? [] : ['--kms-key-id', step.kmsKeyId]),
    // The Glue database the step registers published runs in: the one the trigger (and the deployment) names.
    '--glue-database', step.glueDatabase,
    // The key service and DKS URL the trigger was configured (and checked) with: never the step's local default.
    '--key-service', step.keyService,
    ...(step.keyService === 'dks' ? ['--dks-url', step.dksUrl] : []),
    // One argument, comma-separated: what run-step.sh documents, and immune to how a shell splits it.
    '--collections', run.collections.join(','),
  ];
}

/** The arguments of the request's step after the wrapper script: what the cluster would run. */
export function stepArgsOf(request: RunJobFlowRequest): string[] {
  const steps = request.Steps as { HadoopJarStep?: { Args?: unknown } }[] | undefined;
  const args = steps?.[0]?.HadoopJarStep?.Args;
  if (!Array.isArray(args) || args.length < 2 || !args.every((a) => typeof a === 'string')) {
    throw new TemplateError('the launch request has no step with arguments (steps.json must run the wrapper with ${STEP_ARGS})');
  }
  return (args as string[]).slice(1);
}
