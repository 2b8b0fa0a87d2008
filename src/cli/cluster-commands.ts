import type { Command } from 'commander';
import { CLUSTER_REQUIRED } from '../config/orchestrator-config.js';
import { parseDuration } from '../config/settings.js';
import { listOurClusters, startAdminCluster, stopClusters } from '../orchestrator/admin/index.js';
import type { ClusterInfo } from '../orchestrator/emr/index.js';
import { ConfigError } from '../shared/errors.js';
import { runCommand } from './command.js';
import { orchestratorConfigFrom, withGraph, withOrchestratorSettings } from './trigger-commands.js';

/** `cluster start | stop | list`: operator's replicas of ours (name prefix + tag Application=ingest-replica). */
export function registerClusterCommands(program: Command): void {
  const cluster = program.command('cluster').description('start, stop and list our read-replica clusters (never anyone else\'s)');

  withOrchestratorSettings(
    cluster
      .command('start')
      .description('start a read replica with no steps, kept alive until stopped; prints its id')
      .requiredOption('--idle-timeout <duration>', 'required: terminate it after this long idle (no step running), 1m to 7d, e.g. 4h; or `never` to keep it until `cluster stop` (warned about)')
      .option('--dry-run', 'print the RunJobFlow request instead of sending it')
      .option('--json', 'print JSON'),
    false,
  ).action((flags: Record<string, unknown>) =>
    runCommand(async () => {
      const dryRun = flags.dryRun === true;
      const config = orchestratorConfigFrom({ ...flags, idleTimeout: undefined }, CLUSTER_REQUIRED);
      const idleTimeoutMs = flags.idleTimeout === 'never' ? undefined : duration(flags.idleTimeout, '--idle-timeout');
      if (idleTimeoutMs === undefined) {
        process.stderr.write(
          'WARNING: --idle-timeout never: this replica runs (and costs) until `ingest-replica cluster stop <id>` stops it.\n' +
            'It does not hold up scheduled runs, but nothing will terminate it for you.\n',
        );
      }
      return withAdminGraph(config, flags, async (graph) => {
        if (!dryRun) await graph.prepareLocal();
        const started = await startAdminCluster(graph.admin, { dryRun, ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }) });
        if (dryRun) console.log(JSON.stringify(started.request, null, 2));
        else if (flags.json === true) console.log(JSON.stringify({ clusterId: started.clusterId, name: started.name }, null, 2));
        else console.log(started.clusterId);
        return 0;
      });
    }),
  );

  withOrchestratorSettings(
    cluster
      .command('stop')
      .description('terminate one cluster of ours by id, or all our active ones; refuses a cluster that is not ours')
      .argument('[cluster-id]', 'j-… id, as `cluster list` shows it')
      .option('--all', 'every active cluster of ours')
      .option('--json', 'print JSON'),
    false,
  ).action((clusterId: string | undefined, flags: Record<string, unknown>) =>
    runCommand(async () => {
      if ((clusterId === undefined) === (flags.all !== true)) throw new ConfigError('name one cluster id or pass --all (not both)');
      const config = orchestratorConfigFrom(flags);
      return withAdminGraph(config, flags, async (graph) => {
        const result = await stopClusters(graph.admin, clusterId === undefined ? { all: true } : { clusterId });
        if (flags.json === true) {
          console.log(JSON.stringify({ stopped: result.stopped.map(brief), alreadyEnded: result.alreadyEnded.map(brief) }, null, 2));
          return 0;
        }
        for (const c of result.stopped) console.log(`stopping ${c.id} (${c.name}, was ${c.state})`);
        for (const c of result.alreadyEnded) console.log(`${c.id} (${c.name}) is already ${c.state}`);
        if (result.stopped.length === 0 && result.alreadyEnded.length === 0) console.log('no active cluster of ours');
        return 0;
      });
    }),
  );

  withOrchestratorSettings(
    cluster
      .command('list')
      .description('our active clusters: id, name, state, age, purpose and correlation id')
      .option('--json', 'print JSON'),
    false,
  ).action((flags: Record<string, unknown>) =>
    runCommand(async () => {
      const config = orchestratorConfigFrom(flags);
      return withAdminGraph(config, flags, async (graph) => {
        const clusters = await listOurClusters(graph.admin);
        if (flags.json === true) {
          console.log(JSON.stringify(clusters.map(brief), null, 2));
          return 0;
        }
        if (clusters.length === 0) console.log(`no active cluster of ours (prefix ${config.clusterNamePrefix})`);
        const now = Date.now();
        for (const c of clusters) {
          console.log(`${c.id.padEnd(16)} ${c.state.padEnd(13)} ${age(c.createdAt === undefined ? undefined : now - c.createdAt).padStart(5)}  ${c.name}  ${c.tags.Purpose ?? '-'} ${c.tags.CorrelationId ?? ''}`);
        }
        return 0;
      });
    }),
  );
}

/** The graph without the launch schedule: the cluster commands never judge it (nor list its settings). */
const withAdminGraph: typeof withGraph = (config, flags, body) => withGraph(config, flags, body, false);

function brief(c: ClusterInfo): Record<string, unknown> {
  return { id: c.id, name: c.name, state: c.state, createdAt: c.createdAt === undefined ? undefined : new Date(c.createdAt).toISOString(), purpose: c.tags.Purpose, correlationId: c.tags.CorrelationId };
}

function duration(value: unknown, flag: string): number {
  try {
    const ms = parseDuration(String(value));
    if (ms < 60_000 || ms > 7 * 86_400_000) throw new Error('must be between 1m and 7d');
    return ms;
  } catch (error) {
    throw new ConfigError(`invalid ${flag} ${JSON.stringify(value)}: ${(error as Error).message}`);
  }
}

function age(ms: number | undefined): string {
  if (ms === undefined) return '?';
  if (ms < 120_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 172_800_000) return `${Math.round(ms / 3_600_000)}h`;
  return `${Math.round(ms / 86_400_000)}d`;
}
