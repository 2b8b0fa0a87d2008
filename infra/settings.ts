import { ORCHESTRATOR_SETTINGS } from '../src/config/orchestrator-config.js';
import { SCHEDULE_DEFAULTS, SCHEDULE_SETTINGS, loadScheduleConfig } from '../src/orchestrator/schedule/schedule-config.js';
import { STEP_SETTINGS, readConfigFile } from '../src/config/step-config.js';
import type { Setting } from '../src/config/settings.js';
import type { ScheduleConfig } from '../src/orchestrator/schedule/index.js';

/**
 * The deployment's inputs. Each is a CLI setting under the CLI's own name (`subnetId`, `hbaseRootDir`,
 * `dksUrl`, `launchSlots`, …), from CDK context (`-c subnetId=subnet-0abc`) or a JSON file of settings
 * (`-c config=deploy.json`, the same format as the CLI's `--config`); context wins. A few inputs exist only
 * here (INFRA_INPUTS). Values are parsed by the CLI's own parsers, so what synthesizes is what the CLI accepts.
 */
export interface DeploySettings {
  /** Raw text of every CLI setting that was given (validated), by setting key. */
  readonly cli: Readonly<Record<string, string>>;
  readonly schedule: ScheduleConfig;
  /** The schedule settings' text as the Lambda gets them (INGEST_SCHEDULE_TIMEZONE, …). */
  readonly scheduleEnv: Readonly<Record<string, string>>;
  readonly hbaseRootKmsKeyArn: string;
  readonly dataKeyKmsKeyArn: string | undefined;
  /** Create a placeholder collections secret (default) or use the existing one named `collectionsSecret`. */
  readonly collectionsSecretExists: boolean;
  readonly logGroupName: string;
  /** Folder of the built artifact (`make bundle`): `ingest-replica-<artifactVersion>.tar.gz` and its `.sha256`. */
  readonly bundleDir: string | undefined;
}

/** Inputs that are not CLI settings: what only an account provisioner needs to know. */
export const INFRA_INPUTS = {
  hbaseRootKmsKeyArn: 'ARN of the KMS key the primary HBase root bucket is encrypted with',
  dataKeyKmsKeyArn: 'ARN of the KMS key that wraps data keys (only with keyService=kms)',
  collectionsSecretExists: 'true: use the existing secret named collectionsSecret instead of creating a placeholder',
  logGroupName: 'the log group the cluster ships to (default /app/ingest-replica-incremental; change only for test deployments)',
  bundleDir: 'folder holding build/ingest-replica-<artifactVersion>.tar.gz (make bundle); unset: no artifact upload',
} as const;

/** CLI settings the stack needs from the operator, beyond those it creates itself (table, bucket, key, topic, …). */
export const DEPLOY_REQUIRED = ['subnetId', 'hbaseRootDir', 'dksUrl', 'dksCertSecret'] as const;

export const DEFAULT_LOG_GROUP = '/app/ingest-replica-incremental';

/** The CLI settings a deployment may set, by key. The stack derives the rest (bucket and role names, …). */
const CLI_SETTINGS: Readonly<Record<string, Setting<unknown>>> = Object.fromEntries(
  [...Object.values(STEP_SETTINGS), ...Object.values(ORCHESTRATOR_SETTINGS), ...Object.values(SCHEDULE_SETTINGS)].map((s) => [s.key, s]),
);

export class DeploySettingsError extends Error {
  override readonly name = 'DeploySettingsError';
  constructor(message: string, readonly setting: string) {
    super(message);
  }
}

const FIX = 'Fix: pass -c <name>=<value> to cdk, or put it in the JSON settings file given with -c config=<file>';

/** `tryGetContext` of a CDK node, or any lookup by key (tests pass a plain object). */
export type ContextLookup = (key: string) => unknown;

/** A deployment's settings file holds CLI settings and the infra-only inputs; any other key is an error naming it. */
function checkDeployFile(file: Record<string, unknown>, path: string): void {
  for (const key of Object.keys(file)) {
    if (key in CLI_SETTINGS || key in INFRA_INPUTS) continue;
    throw new DeploySettingsError(`settings file ${path}: unknown key ${JSON.stringify(key)}. Fix: remove it, or use a CLI setting (README, "Config file") or an infra input (${Object.keys(INFRA_INPUTS).join(', ')}).`, key);
  }
}

export function loadDeploySettings(context: ContextLookup): DeploySettings {
  const configPath = context('config');
  const file = readConfigFile(typeof configPath === 'string' ? configPath : undefined, checkDeployFile);
  const raw = (key: string): string | undefined => {
    const v = context(key) ?? file[key];
    if (v === undefined || v === null || v === '') return undefined;
    return Array.isArray(v) ? v.join(key === SCHEDULE_SETTINGS.extraBankHolidays.key ? ',' : '; ') : String(v);
  };
  const cli: Record<string, string> = {};
  for (const [key, s] of Object.entries(CLI_SETTINGS)) {
    const text = raw(key);
    if (text === undefined) continue;
    try {
      s.parse(text);
    } catch (error) {
      throw new DeploySettingsError(`invalid ${key} (${JSON.stringify(text)}): ${(error as Error).message}. ${FIX} (${s.description}).`, key);
    }
    cli[key] = text.trim();
  }
  for (const key of DEPLOY_REQUIRED) {
    if (cli[key] === undefined) throw missing(key, CLI_SETTINGS[key]?.description ?? '');
  }
  const keyService = (cli.keyService ?? 'dks').toLowerCase();
  const dataKeyKmsKeyArn = raw('dataKeyKmsKeyArn');
  if (keyService === 'kms' && dataKeyKmsKeyArn === undefined) throw missing('dataKeyKmsKeyArn', INFRA_INPUTS.dataKeyKmsKeyArn);
  const hbaseRootKmsKeyArn = raw('hbaseRootKmsKeyArn');
  if (hbaseRootKmsKeyArn === undefined) throw missing('hbaseRootKmsKeyArn', INFRA_INPUTS.hbaseRootKmsKeyArn);

  // The schedule: the CLI's own loader, so `ingest-replica schedule --json` with these settings prints the same.
  const scheduleEnv: Record<string, string> = {};
  for (const [name, s] of Object.entries(SCHEDULE_SETTINGS) as [keyof ScheduleConfig, Setting<unknown>][]) {
    scheduleEnv[s.env] = cli[s.key] ?? SCHEDULE_DEFAULTS[name];
  }
  let schedule: ScheduleConfig;
  try {
    schedule = loadScheduleConfig({ env: scheduleEnv });
  } catch (error) {
    throw new DeploySettingsError(`${(error as Error).message} ${FIX}.`, 'schedule');
  }
  const exists = raw('collectionsSecretExists');
  if (exists !== undefined && !['true', 'false'].includes(exists)) {
    throw new DeploySettingsError(`invalid collectionsSecretExists (${JSON.stringify(exists)}): must be true or false. ${FIX}.`, 'collectionsSecretExists');
  }
  return Object.freeze({
    cli: Object.freeze(cli),
    schedule,
    scheduleEnv: Object.freeze(scheduleEnv),
    hbaseRootKmsKeyArn,
    dataKeyKmsKeyArn,
    collectionsSecretExists: exists === 'true',
    logGroupName: raw('logGroupName') ?? DEFAULT_LOG_GROUP,
    bundleDir: raw('bundleDir'),
  });
}

function missing(key: string, description: string): DeploySettingsError {
  return new DeploySettingsError(`${key} is not set. ${FIX} (${description}).`, key);
}
