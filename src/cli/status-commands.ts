import type { Command } from 'commander';
import { SecretsManagerCollections } from '../collections/secrets-adapter.js';
import { collectionFromName } from '../collections/index.js';
import { DynamoStatusStore } from '../status/dynamo-status-adapter.js';
import type { StoredStatusRow } from '../status/status-item.js';
import { ConfigError } from '../shared/errors.js';
import { BLOCKING_STATUSES } from '../shared/types.js';
import { dynamoDocumentClient, secretsClient } from '../wiring/aws-clients.js';
import { runCommand } from './command.js';
import { stepConfigFrom, withSettings } from './settings-flags.js';

/** `status`: the latest runs per collection from the job status table, blocking rows flagged. */
export function registerStatusCommands(program: Command): void {
  withSettings(
    program
      .command('status')
      .description('latest runs per collection: state, window, cluster, age; blocking rows are flagged')
      .option('--collection <ns:table...>', 'only these collections (default: every configured one)')
      .option('--runs <n>', 'runs to show per collection', '3')
      .option('--json', 'print JSON'),
  ).action((flags: Record<string, unknown>) =>
    runCommand(async () => {
      const runs = Number(flags.runs ?? 3);
      if (!Number.isInteger(runs) || runs < 1) throw new ConfigError(`invalid --runs ${JSON.stringify(flags.runs)}: must be a whole number of at least 1, e.g. --runs 5`);
      const config = stepConfigFrom(flags, false);
      const store = new DynamoStatusStore({ tableName: config.statusTable, client: dynamoDocumentClient(config) });
      const names = Array.isArray(flags.collection)
        ? (flags.collection as string[]).map((n) => collectionFromName(n).name)
        : (await new SecretsManagerCollections({ client: secretsClient(config), secretId: config.collectionsSecret }).collections()).map((c) => c.name);
      // Blocking rows are listed even when older than the latest runs: an old failure is what an operator must see.
      const result: { collection: string; runs: StoredStatusRow[]; blocking: StoredStatusRow[] }[] = [];
      for (const name of names) {
        const [latest, blocking] = await Promise.all([store.latestRuns(name, runs), store.blockingRows(name)]);
        result.push({ collection: name, runs: latest, blocking });
      }
      if (flags.json === true) {
        console.log(JSON.stringify(result, null, 2));
        return;
      }
      const now = Date.now();
      for (const { collection, runs: latest, blocking } of result) {
        console.log(collection);
        if (latest.length === 0) console.log('  (no runs)');
        const shown = new Set(latest.map((r) => r.correlationId));
        const older = blocking.filter((r) => !shown.has(r.correlationId));
        for (const r of [...latest, ...older]) {
          const flag = BLOCKING_STATUSES.has(r.status) ? '  BLOCKING' : '';
          const window = `[${fmt(r.processedDataStart)} .. ${fmt(r.processedDataEnd)}]`;
          console.log(`  ${r.correlationId.padEnd(28)} ${r.status.padEnd(16)} ${window}  ${r.emrClusterId ?? '-'}  ${age(now - r.triggeredTime)} ago${flag}`);
          if (r.reason !== undefined && r.reason !== null) console.log(`      ${r.reason}`);
        }
      }
    }),
  );
}

const fmt = (ms: number | null | undefined): string => (typeof ms === 'number' ? new Date(ms).toISOString() : 'NULL');

function age(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)}h`;
  return `${Math.round(ms / 86_400_000)}d`;
}
