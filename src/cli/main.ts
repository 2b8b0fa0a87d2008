#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
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
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
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

// A reader that stops early (`ingest-replica output list | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // help and version exit 0; usage errors exit 2, as every other configuration error does.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    throw error;
  }
}
