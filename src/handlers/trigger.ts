import { requireConfigured } from '../collections/index.js';
import { LAUNCH_REQUIRED, loadOrchestratorConfig } from '../config/orchestrator-config.js';
import { loadScheduleConfig } from '../orchestrator/schedule/schedule-config.js';
import { parseDuration } from '../config/settings.js';
import { launchDecision } from '../orchestrator/schedule/index.js';
import { FailedRunsBlockError, RunDeferredError, ScheduleRefusedError, trigger } from '../orchestrator/trigger/index.js';
import { ConfigError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { parseInstant } from '../shared/time.js';
import { buildOrchestratorGraph, type OrchestratorGraph } from '../wiring/orchestrator-graph.js';

/**
 * The event EventBridge Scheduler sends (its target's `Input`): empty for the schedule; a manual invocation may
 * force a launch, name collections, shorten the wait or judge the schedule at another time.
 */
export interface TriggerEvent {
  /** Overrides the launch slots and bank holidays, never a maintenance window. */
  readonly force?: boolean;
  /** Overrides a maintenance window too (implies force); the alert says so. */
  readonly overrideMaintenanceWindow?: boolean;
  readonly collections?: readonly string[];
  readonly wait?: string;
  readonly at?: string;
}

export type TriggerHandlerResult =
  | { readonly outcome: 'launched'; readonly correlationId: string; readonly clusterId: string; readonly clusterName: string; readonly collections: readonly string[] }
  | { readonly outcome: 'refused' | 'deferred' | 'blocked'; readonly message: string };

/** The part of the Lambda context used: the time left, so the wait ends before Lambda stops the function. */
export interface LambdaContextLike {
  getRemainingTimeInMillis?(): number;
}

/** Time kept back from the wait for deferring, alerting and returning before the Lambda timeout. */
const SAFETY_MS = 60_000;

/**
 * A handler bound to an environment; the graph is built on the first event and kept for the container's life.
 * Refusals, deferrals and blocks are outcomes, returned (an async retry would only repeat them); a real failure
 * throws after the rows are LAMBDA_FAILED and the alert is sent, so Lambda's error metric and alarms see it.
 * Configure the function with no async retries: a retry would be blocked by those LAMBDA_FAILED rows anyway.
 */
export function createTriggerHandler(env: NodeJS.ProcessEnv, logger: Logger = createLogger({ name: 'trigger' })): (event: unknown, context?: LambdaContextLike) => Promise<TriggerHandlerResult> {
  let graph: OrchestratorGraph | undefined;
  let configuredWaitMs = 0;
  let configuredSecretId = '';
  return async (event, context) => {
    if (graph === undefined) {
      const config = loadOrchestratorConfig({ env, require: LAUNCH_REQUIRED });
      const schedule = loadScheduleConfig({ env });
      graph = buildOrchestratorGraph(config, (at) => launchDecision(at, schedule), logger);
      configuredWaitMs = config.waitMs;
      configuredSecretId = config.step.collectionsSecret;
    }
    const input = parseEvent(event);
    // An event may name only configured collections (the secret is read; unreadable → the event fails).
    if (input.collections !== undefined) requireConfigured(await graph.trigger.collections([]), input.collections, configuredSecretId);
    const remaining = context?.getRemainingTimeInMillis?.();
    const waitMs = Math.max(0, Math.min(input.waitMs ?? configuredWaitMs, remaining === undefined ? Number.POSITIVE_INFINITY : remaining - SAFETY_MS));
    try {
      const result = await trigger({
        force: input.force, overrideMaintenanceWindow: input.overrideMaintenanceWindow, dryRun: false, waitMs,
        ...(input.at === undefined ? {} : { at: input.at }),
        ...(input.collections === undefined ? {} : { collections: input.collections }),
      }, graph.trigger);
      if (result.outcome !== 'launched') throw new Error('unexpected dry run');
      return { outcome: 'launched', correlationId: result.correlationId, clusterId: result.clusterId, clusterName: result.clusterName, collections: result.collections };
    } catch (error) {
      if (error instanceof ScheduleRefusedError) return { outcome: 'refused', message: error.message };
      if (error instanceof RunDeferredError) return { outcome: 'deferred', message: error.message };
      if (error instanceof FailedRunsBlockError) return { outcome: 'blocked', message: error.message };
      throw error;
    }
  };
}

interface ParsedEvent { force: boolean; overrideMaintenanceWindow: boolean; collections?: string[]; waitMs?: number; at?: number }

function parseEvent(event: unknown): ParsedEvent {
  const e = (event !== null && typeof event === 'object' ? event : {}) as Record<string, unknown>;
  const out: ParsedEvent = { force: e.force === true, overrideMaintenanceWindow: e.overrideMaintenanceWindow === true };
  if (e.collections !== undefined) {
    if (!Array.isArray(e.collections) || !e.collections.every((c) => typeof c === 'string')) throw new ConfigError('event field "collections" must be a list of ns:table names');
    out.collections = e.collections as string[];
  }
  if (e.wait !== undefined) {
    try {
      out.waitMs = parseDuration(String(e.wait));
    } catch (error) {
      throw new ConfigError(`event field "wait" ${JSON.stringify(e.wait)}: ${(error as Error).message}`);
    }
  }
  if (e.at !== undefined) {
    const at = parseInstant(String(e.at));
    if (at === undefined) throw new ConfigError(`event field "at" ${JSON.stringify(e.at)} is not an ISO-8601 time or epoch ms`);
    out.at = at;
  }
  return out;
}

let bound: ((event: unknown, context?: LambdaContextLike) => Promise<TriggerHandlerResult>) | undefined;

/** Lambda entry point (`dist/src/handlers/trigger.handler`) for the EventBridge Scheduler schedule. */
export async function handler(event: unknown, context?: LambdaContextLike): Promise<TriggerHandlerResult> {
  bound ??= createTriggerHandler(process.env);
  return bound(event, context);
}
