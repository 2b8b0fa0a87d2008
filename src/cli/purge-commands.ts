import type { Command } from 'commander';
import { loadPurgeConfig } from '../orchestrator/purge/purge-config.js';
import { ORCHESTRATOR_SETTINGS } from '../config/orchestrator-config.js';
import { localHome, stackFiles } from '../local/paths.js';
import { readStackState } from '../local/stack-state.js';
import { purgeClusterMetadata, type PurgeResult } from '../orchestrator/purge/index.js';
import { createLogger } from '../shared/logger.js';
import { purgeGraph } from '../wiring/purge-graph.js';
import { runCommand } from './command.js';
import { withSettings } from './settings-flags.js';

/** `purge-metadata`: delete a terminated replica's metadata folder from the primary's HBase root. */
export function registerPurgeCommands(program: Command): void {
  const command = withSettings(
    program
      .command('purge-metadata')
      .description('delete <hbase root>/data/hbase/meta_<cluster id>/ of a TERMINATED cluster of ours (DESIGN.md §3.6); exit 1 when objects are left behind, 3 when the cluster still runs')
      .requiredOption('--cluster-id <id>', 'EMR cluster id, e.g. j-2AXXXXXXGAPLF')
      .option('--dry-run', 'list what would be deleted, delete nothing')
      .option('--json', 'print JSON'),
  );
  for (const s of [ORCHESTRATOR_SETTINGS.hbaseRootDir, ORCHESTRATOR_SETTINGS.clusterNamePrefix]) {
    if (!command.options.some((o) => o.long === s.flag)) command.option(`${s.flag} <value>`, `${s.description} (env ${s.env})`);
  }
  command.action((flags: Record<string, unknown>) =>
    runCommand(async () => {
      const home = localHome();
      const local = readStackState(stackFiles(home).state);
      const text = Object.fromEntries(Object.entries(flags).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
      const config = loadPurgeConfig({ flags: text, ...(local ? { local } : {}), localHome: home });
      const graph = purgeGraph(config, createLogger({ name: 'purge-metadata' }));
      try {
        const result = await purgeClusterMetadata({ clusterId: String(flags.clusterId), dryRun: flags.dryRun === true }, graph.ports, graph.settings);
        console.log(flags.json === true ? JSON.stringify(result, null, 2) : describe(result));
        return result.outcome === 'purged' && result.failures.length > 0 ? 1 : 0;
      } finally {
        graph.close();
      }
    }),
  );
}

function describe(r: PurgeResult): string {
  if (r.outcome === 'ignored') return `ignored ${r.clusterId}: ${r.reason}`;
  const verb = r.dryRun ? 'would delete' : 'deleted';
  const lines = [
    `${r.clusterId} (${r.clusterName}, ${r.state}): ${verb} ${r.deleted} objects under s3://${r.bucket}/${r.folder}` +
      (r.dryRun ? '' : ` in ${r.deleteCalls} DeleteObjects call${r.deleteCalls === 1 ? '' : 's'}`),
    ...r.sample.map((k) => `  ${k}`),
    ...(r.deleted + r.failures.length > r.sample.length ? [`  … and ${r.deleted + r.failures.length - r.sample.length} more`] : []),
  ];
  if (r.failures.length > 0) {
    lines.push(`${r.failures.length} objects were NOT deleted:`, ...r.failures.slice(0, 20).map((f) => `  ${f.key}: ${f.code} ${f.message}`));
    if (r.failures.length > 20) lines.push(`  … and ${r.failures.length - 20} more (--json lists them all)`);
  }
  return lines.join('\n');
}
