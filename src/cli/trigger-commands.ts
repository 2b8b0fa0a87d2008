import { Option, type Command } from 'commander';
import {
  LAUNCH_REQUIRED, loadOrchestratorConfig, ORCHESTRATOR_SETTINGS, type LaunchRequirement, type OrchestratorConfig,
} from '../config/orchestrator-config.js';
import { clusterStepConfig } from '../config/cluster-step-config.js';
import { localHome, stackFiles } from '../local/paths.js';
import { HBASE_REST_PORT, stepArgsOf } from '../orchestrator/emr/index.js';
import { redactSecrets } from '../shared/redact.js';
import { readStackState } from '../local/stack-state.js';
import { launchDecision } from '../orchestrator/schedule/index.js';
import { trigger, type TriggerResult } from '../orchestrator/trigger/index.js';
import { completeLocally } from '../local/trigger/local-run.js';
import { ConfigError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { parseInstant } from '../shared/time.js';
import { buildOrchestratorGraph, type OrchestratorGraph } from '../wiring/orchestrator-graph.js';
import { runCommand } from './command.js';
import { triggerOutcome } from './trigger-outcome.js';
import { scheduleConfigFrom, withScheduleSettings } from './schedule-commands.js';
import { withSettings } from './settings-flags.js';

/**
 * Adds the step's and the orchestrator's settings as flags (see `src/config/`), and the schedule's when the
 * command judges the schedule (`trigger`; the `cluster` commands never do).
 */
export function withOrchestratorSettings(command: Command, schedule = true): Command {
  withSettings(command);
  if (schedule) withScheduleSettings(command);
  for (const s of Object.values(ORCHESTRATOR_SETTINGS)) {
    if (command.options.some((o) => o.long === s.flag)) continue;
    command.addOption(new Option(`${s.flag} <value>`, `${s.description} (env ${s.env})`));
  }
  return command;
}

/** The validated orchestrator config from flags, environment, config file and the local stack (when one runs here). */
export function orchestratorConfigFrom(flags: Record<string, unknown>, require: readonly LaunchRequirement[] = []): OrchestratorConfig {
  const home = localHome();
  const local = readStackState(stackFiles(home).state);
  const text = Object.fromEntries(Object.entries(flags).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
  return loadOrchestratorConfig({ flags: text, ...(local ? { local } : {}), localHome: home, require });
}

/** The orchestrator graph for one command, closed when the body ends. */
export async function withGraph<T>(config: OrchestratorConfig, flags: Record<string, unknown>, body: (graph: OrchestratorGraph) => Promise<T>, schedule = true): Promise<T> {
  const decide = schedule ? ((loaded) => (at: number) => launchDecision(at, loaded))(scheduleConfigFrom(flags)) : () => {
    throw new Error('this command does not judge the launch schedule');
  };
  const graph = buildOrchestratorGraph(config, decide, createLogger());
  try {
    return await body(graph);
  } finally {
    graph.close();
  }
}

/** `trigger`: what the schedule fires; `--local` also runs the step, terminates and purges, on the local stack. */
export function registerTriggerCommands(program: Command): void {
  withOrchestratorSettings(
    program
      .command('trigger')
      .description('launch a run: schedule and maintenance-window check, guards (failed/active runs), one EMR read replica with the step')
      .option('--at <time>', 'judge the schedule at this time instead of now (ISO-8601 or epoch ms)')
      .option('--force', 'launch even outside the launch slots or on a skipped bank holiday (never inside a maintenance window)')
      .option('--override-maintenance-window', 'launch even inside a maintenance window (implies --force); the alert says so')
      .option('--dry-run', 'judge as the real trigger does (schedule, failed/active-run guards, wait), then print the RunJobFlow request and the step\'s configuration (secrets redacted) instead of launching; writes nothing')
      .option('--local', 'local stack: after the launch, run the step here (moto never runs steps), terminate the cluster, purge its metadata')
      .option('--collections <ns:table...>', 'only these collections (default: every configured one)')
      .option('--json', 'print the outcome as JSON')
      .addHelpText('after', '\nExit codes: 0 launched (with --local: and the step succeeded), 1 failure, 2 usage or configuration,\n3 refused by the schedule or a maintenance window, deferred (another run stayed active, or the wait ended inside\na maintenance window), or blocked by unacknowledged failures. --dry-run exits as the real trigger would.\n\n' +
        `Outside the local stack these must be set (flag, environment or config file), or it exits 2 naming each:\n  ${LAUNCH_REQUIRED.map((r) => r.env).join(', ')}`),
  ).action((flags: Record<string, unknown>) =>
    runCommand(async () => {
      const dryRun = flags.dryRun === true;
      // A dry run judges as the real trigger: a setting missing for a launch is an error here too (exit 2).
      const config = orchestratorConfigFrom(flags, LAUNCH_REQUIRED);
      if (flags.local === true && !config.local) throw new ConfigError('--local needs the local stack. Fix: run `ingest-replica local up` first.');
      const at = flags.at === undefined ? undefined : instant(flags.at, '--at');
      const controller = stopOnSignals();
      return withGraph(config, flags, async (graph) => {
        // Nothing is created on the endpoint by a dry run, not even the local stack's topic and buckets.
        if (!dryRun) await graph.prepareLocal();
        let result: TriggerResult;
        try {
          result = await trigger({
            force: flags.force === true,
            overrideMaintenanceWindow: flags.overrideMaintenanceWindow === true,
            dryRun,
            waitMs: config.waitMs,
            ...(at === undefined ? {} : { at }),
            ...(Array.isArray(flags.collections) ? { collections: (flags.collections as string[]).flatMap((c) => c.split(',')).filter(Boolean) } : {}),
            signal: controller.signal,
          }, graph.trigger);
        } catch (error) {
          // --json: the outcome goes to stdout whatever it is (the error still goes to stderr as usual).
          if (flags.json === true) console.log(JSON.stringify(triggerOutcome(error).json, null, 2));
          throw error;
        }
        if (result.outcome === 'dry-run') {
          // What would be sent, and the whole configuration the step would run with, secrets redacted.
          const stepConfiguration = clusterStepConfig(stepArgsOf(result.request), config, HBASE_REST_PORT);
          const request = redactSecrets(result.request);
          console.log(JSON.stringify(flags.json === true ? { ...result, request, stepConfiguration } : { request, stepConfiguration }, null, 2));
          return 0;
        }
        if (flags.local !== true) {
          print(result, flags.json === true);
          return 0;
        }
        const local = await completeLocally(result, graph.localStepFlags(), graph.local());
        if (flags.json === true) console.log(JSON.stringify({ ...summary(result), local }, null, 2));
        else {
          print(result, false);
          for (const s of local.summaries) console.log(JSON.stringify(s));
          const purge = local.purge.outcome === 'purged' ? `purged ${local.purge.deleted} metadata objects under ${local.purge.folder}` : `purge ignored: ${local.purge.reason}`;
          console.log(`local step exited ${local.stepExitCode}; cluster ${result.clusterId} terminated; ${purge}`);
        }
        return local.stepExitCode === 0 ? 0 : 1;
      });
    }),
  );
}

function summary(result: Extract<TriggerResult, { outcome: 'launched' }>): Record<string, unknown> {
  const { request: _request, ...rest } = result;
  return rest;
}

function print(result: Extract<TriggerResult, { outcome: 'launched' }>, json: boolean): void {
  if (json) console.log(JSON.stringify(summary(result), null, 2));
  else console.log(`launched ${result.clusterId} (${result.clusterName}) for run ${result.correlationId}: ${result.collections.join(', ')}`);
}

function instant(value: unknown, flag: string): number {
  const ms = typeof value === 'string' ? parseInstant(value) : undefined;
  if (ms === undefined) throw new ConfigError(`invalid ${flag} ${JSON.stringify(value)}: give epoch milliseconds or an ISO-8601 instant such as 2026-11-25T10:30:00Z`);
  return ms;
}

/** SIGTERM/SIGINT while waiting: stop waiting; the rows become DEFERRED (exit 3). A launch under way completes. */
function stopOnSignals(): AbortController {
  const controller = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => controller.abort(new Error(`stopped by ${signal}`)));
  return controller;
}
