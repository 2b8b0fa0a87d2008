import { redactSecrets } from '../shared/redact.js';
import type { OrchestratorSettings } from './orchestrator-config.js';
import { loadStepConfig, STEP_SETTINGS, type StepConfig, type StepSettingKey } from './step-config.js';

/** The step's configuration on the cluster, as `trigger --dry-run` prints it. */
export interface ClusterStepConfiguration {
  /** Every step setting as the step will resolve it, secrets redacted. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Where each value comes from: the step's arguments, the node (run-step.sh, the bootstrap action) or a default. */
  readonly sources: Readonly<Record<string, 'step argument' | 'cluster node' | 'default'>>;
  /** The settings file the bootstrap action installs (INGEST_STEP_CONFIG_URI), if any: it fills in what the
   * arguments leave unset and is not read here. */
  readonly settingsFile?: string;
  /** The step's own arguments that are not settings (run id, times, collections). */
  readonly run: Readonly<Record<string, string>>;
}

/**
 * What the step on the cluster will run with: the request's step arguments (flags) over what the node sets
 * (`steps/run-step.sh`: this node's HBase REST server, EMR's Spark; the bootstrap action: the DKS material
 * from `dksCertSecret`) over the step's defaults, resolved by the step's own loader as on a cluster node.
 */
export function clusterStepConfig(stepArgs: readonly string[], settings: OrchestratorSettings, restPort: number): ClusterStepConfiguration {
  const byFlag = new Map(Object.values(STEP_SETTINGS).map((s) => [s.flag, s.key]));
  const flags: Record<string, string> = {};
  const run: Record<string, string> = {};
  for (let i = 0; i < stepArgs.length; i += 2) {
    const [flag, value] = [stepArgs[i] as string, stepArgs[i + 1] ?? ''];
    const key = byFlag.get(flag);
    if (key === undefined) run[flag.replace(/^--/, '')] = value;
    else flags[key] = value;
  }
  const rest = `http://127.0.0.1:${restPort}`;
  const dks = `${settings.installDir}/etc/dks`;
  const node: NodeJS.ProcessEnv = {
    HBASE_REST_URL: rest,
    INGEST_WORKER_HBASE_REST_URL: rest,
    SPARK_HOME: '/usr/lib/spark',
    ...(settings.dksCertSecret === undefined ? {} : { DKS_CLIENT_CERT: `${dks}/client.pem`, DKS_CLIENT_KEY: `${dks}/client-key.pem`, DKS_CA_CERT: `${dks}/ca.pem` }),
  };
  const config: StepConfig = loadStepConfig({ flags, env: node, requireDks: false, onCluster: true });
  const sources = Object.fromEntries((Object.keys(STEP_SETTINGS) as StepSettingKey[]).map((name) => {
    const s = STEP_SETTINGS[name];
    return [name, flags[s.key] !== undefined ? 'step argument' : node[s.env] !== undefined ? 'cluster node' : 'default'] as const;
  }));
  return {
    settings: redactSecrets(config) as Record<string, unknown>,
    sources,
    ...(settings.stepConfigUri === undefined ? {} : { settingsFile: settings.stepConfigUri }),
    run,
  };
}
