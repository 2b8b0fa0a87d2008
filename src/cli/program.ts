import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { projectRoot } from '../shared/project-root.js';
import { configureLogging, type LogFormat } from '../shared/logger.js';
import { registerLocalCommands } from './local-commands.js';
import { registerStepCommands } from './step-commands.js';
import { registerScanRangeCommand } from './scan-range-command.js';
import { registerOutputCommands } from './output-commands.js';
import { registerStatusCommands } from './status-commands.js';
import { registerScheduleCommands } from './schedule-commands.js';
import { registerPurgeCommands } from './purge-commands.js';
import { registerTriggerCommands } from './trigger-commands.js';
import { registerClusterCommands } from './cluster-commands.js';
import { registerAckCommands } from './ack-commands.js';

/** The `ingest-replica` CLI: thin entry points over the orchestrator, the step runner and the local stack. */
export function buildProgram(): Command {
  const program = new Command('ingest-replica')
    .description('Incremental, encrypted HBase → Parquet pipeline on an EMR read replica.')
    .version(versionText(), '-V, --version', 'print the version and exit')
    .addOption(new Option('--log-format <format>', 'logs on stderr: pretty (readable lines) or json (JSON lines); default: pretty on a terminal, json otherwise').choices(['pretty', 'json']))
    .addOption(new Option('-q, --quiet', 'log warnings and errors only, and show no progress').conflicts('verbose'))
    .addOption(new Option('-v, --verbose', 'log debug lines too'))
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('afterAll', '\nDurations need a unit: 500ms, 90s, 15m, 1h, 2d or 1h15m; a bare number (other than 0) is refused.\nExit codes: 0 ok, 1 failure, 2 usage or configuration, 3 deferred or blocked.')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  // Global options are read before any command runs, whichever side of the command name they were given on.
  program.hook('preAction', () => {
    const global = program.opts<{ logFormat?: LogFormat; quiet?: boolean; verbose?: boolean }>();
    configureLogging({
      ...(global.logFormat === undefined ? {} : { format: global.logFormat }),
      ...(global.quiet === true ? { level: 'warn', quiet: true } : global.verbose === true ? { level: 'debug' } : {}),
    });
  });
  registerTriggerCommands(program);
  registerStepCommands(program);
  registerScanRangeCommand(program);
  registerStatusCommands(program);
  registerOutputCommands(program);
  registerScheduleCommands(program);
  registerPurgeCommands(program);
  registerClusterCommands(program);
  registerAckCommands(program);
  registerLocalCommands(program);
  return program;
}

/** `ingest-replica 0.1.0`, with the commit when the installed bundle's VERSION file says it. */
export function versionText(root: string = projectRoot()): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string };
  const file = join(root, 'VERSION');
  const commit = existsSync(file) ? /^commit=(.+)$/m.exec(readFileSync(file, 'utf8'))?.[1] : undefined;
  return `ingest-replica ${pkg.version ?? 'unknown'}${commit ? ` (commit ${commit})` : ''}`;
}
