import { LAUNCH_REQUIRED, ORCHESTRATOR_SETTINGS, type OrchestratorSettings } from '../src/config/orchestrator-config.js';
import { STEP_SETTINGS, type StepConfig } from '../src/config/step-config.js';
import type { Setting } from '../src/config/settings.js';
import { DeploySettingsError, type DeploySettings } from './settings.js';

/** Settings the trigger Lambda must have: every one a launch requires (the alerts topic among them). */
export const TRIGGER_REQUIRED = LAUNCH_REQUIRED;

type Field = keyof OrchestratorSettings | keyof StepConfig;
const BY_FIELD: Readonly<Record<string, Setting<unknown>>> = { ...STEP_SETTINGS, ...ORCHESTRATOR_SETTINGS };
const BY_KEY: Readonly<Record<string, Setting<unknown>>> = Object.fromEntries(Object.values(BY_FIELD).map((s) => [s.key, s]));
/** Lambda sets these itself and refuses them in a function's environment. */
const RESERVED = new Set(['AWS_REGION', 'AWS_DEFAULT_REGION']);

/**
 * The trigger Lambda's environment, under the CLI's own variable names: every setting the deployment was given
 * (step, orchestrator and schedule settings), then what the stack derived (its bucket, key, topic, roles, …),
 * which wins. A setting a launch requires that is still missing fails the synth, naming it: the function can
 * never be deployed unable to launch.
 */
export function triggerEnvironment(settings: DeploySettings, derived: Partial<Record<Field, string>>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, text] of Object.entries(settings.cli)) {
    const s = BY_KEY[key];
    if (s !== undefined) env[s.env] = text;
  }
  for (const [field, text] of Object.entries(derived)) {
    const s = BY_FIELD[field];
    if (s === undefined) throw new Error(`triggerEnvironment: ${field} is not a CLI setting`);
    if (text !== undefined) env[s.env] = text;
  }
  Object.assign(env, settings.scheduleEnv);
  for (const name of RESERVED) delete env[name];
  for (const s of TRIGGER_REQUIRED) {
    if (env[s.env] === undefined) throw new DeploySettingsError(`${s.key} is not set for the trigger Lambda (${s.env}): a launch requires it. Fix: pass -c ${s.key}=<value> (${s.description}).`, s.key);
  }
  return env;
}
