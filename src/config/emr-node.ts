import { existsSync } from 'node:fs';
import { isExplicit } from './settings.js';
import { LAUNCH_REQUIRED, missingLaunchSettings } from './orchestrator-config.js';
import { readConfigFile, STEP_SETTINGS, type ConfigSources, type StepConfig } from './step-config.js';

/** EMR writes this file on every node of a cluster; its presence is how the step knows it runs on EMR. */
export const EMR_JOB_FLOW_FILE = '/mnt/var/lib/info/job-flow.json';

/** The job-flow file to look for: `EMR_JOB_FLOW_FILE` moves it (tests). */
export const jobFlowFile = (env: NodeJS.ProcessEnv): string => env.EMR_JOB_FLOW_FILE ?? EMR_JOB_FLOW_FILE;

/**
 * On an EMR node the step refuses, at start, to run on a local-stack default: a DKS on
 * https://127.0.0.1:8443, the local stack's certificates, no SSE-KMS key, the seeder's bucket. Each of the
 * step's launch-required settings (`LAUNCH_REQUIRED`, part `step`) must be set by flag, environment or config
 * file; the trigger passes them as the step's arguments, the bootstrap action installs the DKS material.
 * Off EMR (no job-flow file) this checks nothing: locally the defaults are the point.
 */
export function refuseLocalDefaultsOnEmr(sources: ConfigSources, config: StepConfig): void {
  const env = sources.env ?? process.env;
  const file = jobFlowFile(env);
  if (!existsSync(file)) return;
  const settings = { flags: sources.flags, env, file: readConfigFile(sources.flags?.config ?? env.INGEST_REPLICA_CONFIG) };
  const missing = LAUNCH_REQUIRED
    .filter((r) => r.part === 'step' && !(r.dksOnly && config.keyService !== 'dks'))
    .flatMap((r) => r.onNode.map((key) => ({ requirement: r, setting: STEP_SETTINGS[key] })))
    .filter(({ setting }) => !isExplicit(setting, settings))
    .map(({ requirement, setting }) => ({
      ...setting,
      description: requirement.key === setting.key ? setting.description : `${setting.description}; a launch installs it from ${requirement.env}`,
    }));
  if (missing.length > 0) {
    throw missingLaunchSettings(missing, `the step on an EMR node (${file} exists)`,
      'It would otherwise run on the local stack\'s defaults (DKS https://127.0.0.1:8443, no SSE-KMS key). Nothing was read or written.');
  }
}
