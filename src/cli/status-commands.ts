import { Option, type Command } from 'commander';
import { SecretsManagerCollections } from '../collections/secrets-adapter.js';
import { collectionFromName } from '../collections/index.js';
import { readFreshness } from '../orchestrator/admin/index.js';
import { DEFAULT_TIMING } from '../orchestrator/trigger/timing.js';
import { DynamoStatusStore } from '../status/dynamo-status-adapter.js';
import { ConfigError } from '../shared/errors.js';
import { dynamoDocumentClient, secretsClient } from '../wiring/aws-clients.js';
import { collectionsFlag, withCollectionsFlag } from './collections-flag.js';
import { runCommand } from './command.js';
import { stepConfigFrom, withSettings } from './settings-flags.js';
import { statusJson, statusText } from './status-view.js';

/** `status`: is each collection's data fresh? Its watermark, lag, last run with data, and what blocks. */
export function registerStatusCommands(program: Command): void {
  withSettings(
    withCollectionsFlag(
      program
        .command('status')
        .description('is the data fresh? per collection: complete up to (watermark), lag behind now, last run with data, failures and whether an ack is needed; then its latest runs, blocking rows flagged'),
      'only these collections (default: every configured one)',
    )
      .addOption(new Option('--runs <n>', 'runs to show per collection').default('3'))
      .option('--json', 'print JSON with the same fields')
      .addHelpText('after', '\nExit codes: 0 nothing blocks, 3 a collection needs an ack (a failed run, or a stale in-flight row, blocks its launches), 1/2 errors.'),
  ).action((flags: Record<string, unknown>) =>
    runCommand(async () => {
      const runs = Number(flags.runs ?? 3);
      if (!Number.isInteger(runs) || runs < 1) throw new ConfigError(`invalid --runs ${JSON.stringify(flags.runs)}: must be a whole number of at least 1, e.g. --runs 5`);
      const config = stepConfigFrom(flags, false);
      const client = dynamoDocumentClient(config);
      try {
        const store = new DynamoStatusStore({ tableName: config.statusTable, client });
        const named = collectionsFlag(flags);
        const names = named !== undefined
          ? named.map((n) => collectionFromName(n).name)
          : (await new SecretsManagerCollections({ client: secretsClient(config), secretId: config.collectionsSecret }).collections()).map((c) => c.name);
        const now = Date.now();
        const list = [];
        // Blocking rows are listed even when older than the latest runs: an old failure is what an operator must see.
        for (const name of names) list.push(await readFreshness(name, store, runs, now, DEFAULT_TIMING.staleAfterMs));
        console.log(flags.json === true ? JSON.stringify(statusJson(list), null, 2) : statusText(list, now));
        return list.some((f) => f.needsAck) ? 3 : 0;
      } finally {
        client.destroy();
      }
    }),
  );
}
