import { Option, type Command } from 'commander';

/**
 * The one spelling of the collection flag: `--collections ns:t [ns:t ...]` (commas work too), as `run` and
 * `trigger` take it. `--collection`, the old spelling of `status` and `output list`, is kept as a hidden alias.
 */
export function withCollectionsFlag(command: Command, description: string): Command {
  return command
    .addOption(new Option('--collections <ns:table...>', description))
    .addOption(new Option('--collection <ns:table...>', 'deprecated spelling of --collections').hideHelp());
}

/** The collections named by `--collections` (or the old `--collection`), or undefined when none was. */
export function collectionsFlag(flags: Record<string, unknown>): string[] | undefined {
  const given = [flags.collections, flags.collection].filter(Array.isArray).flat() as string[];
  if (given.length === 0) return undefined;
  return given.flatMap((c) => c.split(',')).map((c) => c.trim()).filter(Boolean);
}
