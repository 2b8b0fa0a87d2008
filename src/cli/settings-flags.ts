import { Option, type Command } from 'commander';
import { refuseLocalDefaultsOnEmr } from '../config/emr-node.js';
import { loadStepConfig, STEP_DURATIONS, STEP_SETTINGS, stepDefaults, type StepConfig, type StepSettingKey } from '../config/step-config.js';
import { localHome, stackFiles } from '../local/paths.js';
import { readStackState } from '../local/stack-state.js';

type StepKey = StepSettingKey;

const AWS: readonly StepKey[] = ['awsEndpointUrl', 'awsServiceEndpoints', 'awsEmulator', 'awsRegion'];
const READ: readonly StepKey[] = ['hbaseRestUrl', 'keyService', 'dksUrl', 'dksClientCert', 'dksClientKey', 'dksCaCert', 'dksConcurrency', 'scannerBatchBytes'];
const WRITE: readonly StepKey[] = ['outputBucket', 'outputPrefix', 'kmsKeyId', 'statusTable', 'collectionsSecret', 'maxQuarantined', 'maxRecordBytes', 'scanConcurrency', 'glueDatabase'];
const SPARK: readonly StepKey[] = ['engine', 'sparkHome', 'sparkMaster', 'sparkPython', 'sparkExecutorCores', 'sparkTasksPerCore', 'sparkConf', 'workerHbaseRestUrl'];

/**
 * The step settings each command uses, by command path; its `--help` lists only these. Commands not named here
 * (the orchestrator's, which pass the step's settings on) take them all.
 */
const SETTINGS_OF: Readonly<Record<string, readonly StepKey[]>> = {
  run: Object.keys(STEP_SETTINGS) as StepKey[],
  reprocess: [...AWS, ...READ, ...WRITE, ...SPARK],
  ddl: ['outputBucket', 'outputPrefix'],
  status: [...AWS, 'statusTable', 'collectionsSecret'],
  ack: [...AWS, 'statusTable'],
  'output list': [...AWS, 'outputBucket', 'outputPrefix'],
  'output show': AWS,
  'purge-metadata': AWS,
};

/**
 * The step settings a launch on EMR passes to its step (`runStepArgs` in orchestrator/emr/launch-request.ts),
 * besides the AWS target the trigger itself calls. `trigger` takes every step setting, because `--local` runs the
 * step here with all of them; its `--help` says which ones only `--local` uses.
 */
export const LAUNCH_PASSES: readonly StepKey[] = [
  ...AWS, 'statusTable', 'collectionsSecret', 'outputBucket', 'outputPrefix', 'kmsKeyId', 'glueDatabase', 'keyService', 'dksUrl',
];
const ONLY_LOCAL: Readonly<Record<string, ReadonlySet<StepKey>>> = {
  trigger: new Set((Object.keys(STEP_SETTINGS) as StepKey[]).filter((k) => !LAUNCH_PASSES.includes(k))),
};

/** `output list` for the `list` under `output`. */
const pathOf = (command: Command): string => {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
};

/**
 * Adds `--config <file>` and one flag per step setting the command uses (see `src/config/step-config.ts`), each
 * with its variable and its default here (the local stack's when one runs).
 */
export function withSettings(command: Command): Command {
  command.addOption(new Option('--config <file>', 'JSON config file of settings (env INGEST_REPLICA_CONFIG; keys: README, "Config file")'));
  const path = pathOf(command);
  const keys = SETTINGS_OF[path] ?? (Object.keys(STEP_SETTINGS) as StepKey[]);
  const defaults = helpDefaults();
  for (const key of keys) {
    const s = STEP_SETTINGS[key];
    if (command.options.some((o) => o.long === s.flag)) continue;
    const value = defaults[key];
    const unit = STEP_DURATIONS.has(key) ? '; a duration with a unit, e.g. 90s, 15m, 1h15m' : '';
    const fallback = value === undefined || value === '' ? (key === 'workerHbaseRestUrl' ? '--hbase-rest-url' : 'none') : value;
    const scope = ONLY_LOCAL[path]?.has(key) ? '; only with --local: the step run here takes it, a cluster\'s step does not' : '';
    command.addOption(new Option(`${s.flag} <value>`, `${s.description} (env ${s.env}${unit}; default: ${fallback}${scope})`));
  }
  return command;
}

let cachedDefaults: Partial<Record<StepKey, string>> | undefined;

/** The defaults `--help` shows: what this machine would use (read once per process). */
function helpDefaults(): Partial<Record<StepKey, string>> {
  if (cachedDefaults === undefined) {
    const home = localHome();
    const local = readStackState(stackFiles(home).state);
    cachedDefaults = stepDefaults({ ...(local ? { local } : {}), localHome: home });
  }
  return cachedDefaults;
}

/**
 * The validated config from flags, environment, config file and the local stack (when one runs here). For the
 * commands that read and write data (`needDks`: run, reprocess), on an EMR node no local-stack default is taken.
 */
export function stepConfigFrom(flags: Record<string, unknown>, needDks = true): StepConfig {
  const home = localHome();
  const local = readStackState(stackFiles(home).state);
  const text = Object.fromEntries(Object.entries(flags).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  const sources = { flags: text, ...(local ? { local } : {}), localHome: home, requireDks: needDks };
  const config = loadStepConfig(sources);
  if (needDks) refuseLocalDefaultsOnEmr(sources, config);
  return config;
}
