import type { Command } from 'commander';

/** `ingest-replica local up|down|status|seed`: the local stack (filled in by the stack manager). */
export function registerLocalCommands(program: Command): void {
  program.command('local').description('manage the local stack: HBase + REST, moto, DKS');
}
