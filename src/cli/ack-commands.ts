import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { collectionFromName } from '../collections/index.js';
import { acknowledgeFailures } from '../orchestrator/admin/index.js';
import { DEFAULT_TIMING } from '../orchestrator/trigger/timing.js';
import { ConfigError } from '../shared/errors.js';
import { DynamoStatusStore } from '../status/dynamo-status-adapter.js';
import { dynamoDocumentClient } from '../wiring/aws-clients.js';
import { runCommand } from './command.js';
import { stepConfigFrom, withSettings } from './settings-flags.js';

/** `ack`: an operator acknowledges failed runs so they stop blocking launches (EMR_FAILED → _EMR_FAILED). */
export function registerAckCommands(program: Command): void {
  withSettings(
    program
      .command('ack')
      .description('acknowledge failed runs (EMR_FAILED/LAMBDA_FAILED → _EMR_FAILED/_LAMBDA_FAILED) and clear stale in-flight rows of killed hand-started steps (EMR_PROCESSING, no cluster, not renewed for 10 min → _EMR_FAILED), recording who and when; unblocks launches')
      .argument('[collections...]', 'ns:table: every failed row of these collections')
      .option('--correlation-id <id>', 'every failed row of this run instead')
      .option('--by <who>', 'who acknowledges (default: the login name)')
      .option('--json', 'print JSON'),
  ).action((names: string[], flags: Record<string, unknown>) =>
    runCommand(async () => {
      const correlationId = typeof flags.correlationId === 'string' ? flags.correlationId : undefined;
      if ((names.length > 0) === (correlationId !== undefined)) throw new ConfigError('name the collections (ns:table …) or pass --correlation-id, not both');
      const config = stepConfigFrom(flags, false);
      const who = typeof flags.by === 'string' && flags.by.trim() !== '' ? flags.by.trim() : loginName();
      const client = dynamoDocumentClient(config);
      try {
        const store = new DynamoStatusStore({ tableName: config.statusTable, client });
        const target = correlationId !== undefined ? { correlationId } : { collections: names.map((n) => collectionFromName(n).name) };
        const outcomes = await acknowledgeFailures(target, who, Date.now(), store, DEFAULT_TIMING.staleAfterMs);
        if (flags.json === true) console.log(JSON.stringify(outcomes, null, 2));
        else if (outcomes.length === 0) console.log('nothing to acknowledge: no failed rows');
        else {
          for (const o of outcomes) {
            const r = o.result;
            const what = r.outcome === 'acknowledged' ? `${r.from} → ${r.to} by ${who}${r.note ? ` (${r.note})` : ''}` : r.outcome === 'not-failed' ? `left alone: now ${r.status}` : 'gone';
            console.log(`${o.collection}  ${o.correlationId}  ${what}`);
          }
        }
        return 0;
      } finally {
        client.destroy();
      }
    }),
  );
}

function loginName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
