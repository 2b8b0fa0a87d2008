import { Option, type Command } from 'commander';
import { refuseLocalDefaultsOnEmr } from '../config/emr-node.js';
import { loadStepConfig, STEP_SETTINGS, type StepConfig } from '../config/step-config.js';
import { localHome, stackFiles } from '../local/paths.js';
import { readStackState } from '../local/stack-state.js';

/** Adds one flag per setting (see `src/config/step-config.ts`), plus `--config <file>`. */
export function withSettings(command: Command): Command {
  command.addOption(new Option('--config <file>', 'JSON config file of settings (env INGEST_REPLICA_CONFIG)'));
  for (const s of Object.values(STEP_SETTINGS)) {
    if (command.options.some((o) => o.long === s.flag)) continue;
    command.addOption(new Option(`${s.flag} <value>`, `${s.description} (env ${s.env})`));
  }
  return command;
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
